// Command viewgate serves read-only GraphQL over whitelisted database views.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
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
  check    validate config and catalog, audit privileges, compare the catalog with the live databases
  catalog init   draft a catalog from the views of a live source
  keys     create, list and revoke API keys in the keys file ("viewgate keys help")

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
	case "check":
		return check(ctx, args, getenv, stdout, stderr)
	case "catalog":
		return catalogCmd(ctx, args, getenv, stdout, stderr)
	case "keys":
		return keys(args, getenv, time.Now, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}
