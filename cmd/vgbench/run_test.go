package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/dbtest"
)

func TestRunRefusesRemoteServer(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-pg", "postgres://postgres@db.example.com/postgres"}, noenv, &out, &errOut)
	if !errors.Is(err, bench.ErrNotLoopback) {
		t.Fatalf("run = %v, want ErrNotLoopback", err)
	}
}

// TestRun is a short load run end to end; it needs the local Postgres test server.
func TestRun(t *testing.T) {
	dbtest.Require(t, "postgres")
	var out, errOut bytes.Buffer
	args := []string{"-c", "2", "-d", "400ms", "-rounds", "2", "-warmup", "0"}
	if err := run(context.Background(), args, os.Getenv, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"viewgate", "minimal", "ratio viewgate/minimal throughput"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if errOut.Len() > 0 {
		t.Errorf("stderr: %s", errOut.String())
	}
}

func noenv(string) string { return "" }
