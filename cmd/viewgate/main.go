// Command viewgate serves read-only GraphQL over whitelisted database views.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
)

// gcPercent is the collector's target when GOGC is not set: the heap may grow to three times
// what is live between collections instead of two. viewgate's live heap is a few MB, so at
// Go's default of 100 it collects every few dozen requests under load; at 200 the peer
// benchmark's list query served a median 17% more requests per second (README, "Memory and
// the collector").
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = withHangups(ctx, notifyHangups())
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "viewgate:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

const usage = `usage: viewgate [command] [flags]

commands:
  serve          serve GraphQL (the default); with no -config, on the built-in demo database
  schema         print the catalog's GraphQL schema: introspection JSON, or SDL with -format sdl
  check          validate config and catalog, audit privileges, compare the catalog with the live databases
  catalog init   draft a catalog from the views of a live source
  keys           create, list and revoke API keys in the keys file
  export         download an export (CSV or NDJSON) with progress, retries and resume
  querylog       digest: profile the query log and the slow log, as pt-query-digest does
  version        print the module version and the VCS revision the binary was built from
  help           print this list; "viewgate help COMMAND" prints a command's flags

Run "viewgate COMMAND -h" for a command's flags.`

// run is main without the process: tests call it with their own arguments and writers.
// A command that printed its help because it was asked to returns nil.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if err := command(ctx, args, getenv, stdout, stderr); !errors.Is(err, errHelp) {
		return err
	}
	return nil
}

func command(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve" // when the first argument is a flag
	switch {
	case len(args) == 0:
	case isHelp(args[0]):
		cmd, args = "help", args[1:]
	case args[0] == "-version" || args[0] == "--version":
		cmd, args = "version", args[1:]
	case args[0] != "" && args[0][0] != '-':
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
	case "export":
		return exportCmd(ctx, args, getenv, stdout, stderr)
	case "querylog":
		return querylogCmd(args, time.Now, stdout)
	case "version":
		return version(args, debug.ReadBuildInfo, stdout)
	case "help":
		if len(args) > 0 && args[0] != "help" && !isHelp(args[0]) {
			return command(ctx, []string{args[0], "-h"}, getenv, stdout, stderr)
		}
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// isHelp reports whether arg asks for help the way the flag package understands it.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--h", "--help":
		return true
	}
	return false
}
