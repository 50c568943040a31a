package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/viewgate/viewgate/demo"
)

// TestServeMissingSQLiteFile: serve names a SQLite file that does not exist as such, in one
// error whose prefixes are not repeated.
func TestServeMissingSQLiteFile(t *testing.T) {
	path := writeConfig(t, engineDB{driver: "sqlite", dsn: filepath.Join(t.TempDir(), "absent.db")}, "", demo.Catalog())
	err := run(context.Background(), []string{"serve", "-config", path, "-listen", "127.0.0.1:0"}, noEnv, io.Discard, io.Discard)
	if want := "open source demo: replica: no healthy replica (demo: connect: the database file does not exist)"; err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
}
