// Command viewgate serves read-only GraphQL over whitelisted database views.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "viewgate:", err)
		os.Exit(1)
	}
}

const usage = `usage: viewgate [command] [flags]

commands:
  serve    serve GraphQL (the default); with no -config, on the built-in demo database
  schema   print the GraphQL schema of the catalog as an introspection result (JSON)

Run "viewgate serve -h" for the flags.`

// run is main without the process: tests call it with their own arguments and writers.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "schema":
		return printSchema(ctx, args, getenv, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}
