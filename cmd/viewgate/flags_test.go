package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestHelp: -h, --help and help print the command list; each command's -h prints its usage
// and only its own flags. All exit 0 and write nothing to stderr.
func TestHelp(t *testing.T) {
	cases := []struct {
		args         string
		want, absent []string
	}{
		{"-h", []string{"commands:", "serve", "schema", "check", "catalog init", "keys", "version"}, []string{"-listen"}},
		{"--help", []string{"commands:", "version"}, []string{"-listen"}},
		{"-help", []string{"commands:"}, nil},
		{"help", []string{"commands:"}, nil},
		{"help help", []string{"commands:"}, nil},
		{"help schema", []string{"usage: viewgate schema", "-format"}, []string{"-listen"}},
		{"serve -h", []string{"usage: viewgate serve", "-config", "-env", "-listen"}, []string{"-format", "-json"}},
		{"-listen 127.0.0.1:0 -h", []string{"usage: viewgate serve", "-listen"}, nil},
		{"schema -h", []string{"usage: viewgate schema", "-config", "-env", "-format"}, []string{"-listen", "-json"}},
		{"schema --help", []string{"usage: viewgate schema"}, []string{"-listen"}},
		{"check -h", []string{"usage: viewgate check", "-json"}, []string{"-listen", "-format"}},
		{"catalog -h", []string{"viewgate catalog init", "catalog init -h"}, nil},
		{"catalog help", []string{"viewgate catalog init"}, nil},
		{"catalog init -h", []string{"usage: viewgate catalog init", "-source", "-schemas", "-tables", "-o "}, []string{"-listen"}},
		{"keys -h", []string{"create", "list", "revoke"}, nil},
		{"keys help", []string{"create", "list", "revoke"}, nil},
		{"keys create -h", []string{"usage: viewgate keys create", "-tenant", "-roles", "-owner", "-expires", "-file"}, []string{"-listen"}},
		{"keys list -h", []string{"usage: viewgate keys list", "-file"}, []string{"-tenant", "-listen"}},
		{"keys revoke -h", []string{"usage: viewgate keys revoke", "-file"}, []string{"-tenant"}},
		{"version -h", []string{"usage: viewgate version"}, []string{"flags:"}},
	}
	for _, tc := range cases {
		t.Run(tc.args, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), strings.Fields(tc.args), func(string) string { return "" }, &stdout, &stderr)
			if err != nil {
				t.Fatalf("error %v, want none (exit 0)", err)
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr: %s", stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("no %q in:\n%s", w, stdout.String())
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(stdout.String(), a) {
					t.Errorf("%q in:\n%s", a, stdout.String())
				}
			}
		})
	}
}

// TestBadFlags: a bad flag is reported once, by the error main prints, naming the command's
// help; nothing else is written.
func TestBadFlags(t *testing.T) {
	cases := []struct{ args, want string }{
		{"-bogus", `flag provided but not defined: -bogus (run "viewgate serve -h" for the flags)`},
		{"serve -listen", `flag needs an argument: -listen (run "viewgate serve -h" for the flags)`},
		{"schema -bogus", `flag provided but not defined: -bogus (run "viewgate schema -h" for the flags)`},
		{"schema -listen 127.0.0.1:0", `flag provided but not defined: -listen (run "viewgate schema -h" for the flags)`},
		{"schema -format xml", `schema: -format "xml": want json or sdl`},
		{"schema extra", `unexpected arguments: [extra]`},
		{"check -bogus", `flag provided but not defined: -bogus (run "viewgate check -h" for the flags)`},
		{"catalog init -bogus", `flag provided but not defined: -bogus (run "viewgate catalog init -h" for the flags)`},
		{"catalog", `missing catalog command`},
		{"catalog drop", `unknown catalog command "drop"`},
		{"keys list -bogus", `flag provided but not defined: -bogus (run "viewgate keys list -h" for the flags)`},
		{"keys create -tenant", `flag needs an argument: -tenant (run "viewgate keys create -h" for the flags)`},
		{"version -bogus", `flag provided but not defined: -bogus (run "viewgate version -h" for the flags)`},
		{"version extra", `unexpected arguments: [extra]`},
		{"help frobnicate", `unknown command "frobnicate"`},
	}
	for _, tc := range cases {
		t.Run(tc.args, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), strings.Fields(tc.args), func(string) string { return "" }, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if n := strings.Count(err.Error(), "-bogus"); n > 1 {
				t.Errorf("the error names the flag %d times: %v", n, err)
			}
			if stdout.Len()+stderr.Len() > 0 {
				t.Errorf("wrote stdout %q, stderr %q; main reports the error once", stdout.String(), stderr.String())
			}
		})
	}
}
