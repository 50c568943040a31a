package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// errHelp reports that a command printed its help because it was asked to: run returns nil.
var errHelp = errors.New("help printed")

// newFlags returns the flag set of the command "viewgate name". It prints nothing by itself:
// parse prints the help on -h, and every other error is reported once, by main. usage is the
// synopsis and what the command does.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("viewgate "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n", usage)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(fs.Output(), "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses a command's arguments. On -h, -help or --help it prints the command's usage and
// flags to stdout and returns errHelp; any other error names the bad flag and the way to the help.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelp
	case err != nil:
		return fmt.Errorf("%w (run \"%s -h\" for the flags)", err, fs.Name())
	}
	return nil
}
