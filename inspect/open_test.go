package inspect_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/viewgate/viewgate/inspect"
)

// TestOpenMissingSQLite: a SQLite file that does not exist is named as such (issue 8, item 12),
// not as SQLite's bare "unable to open database file (14)".
func TestOpenMissingSQLite(t *testing.T) {
	_, err := inspect.Open(context.Background(), inspect.SQLite, filepath.Join(t.TempDir(), "missing.db"))
	if err == nil || !strings.Contains(err.Error(), "the database file does not exist") {
		t.Fatalf("Open = %v, want it to say the file does not exist", err)
	}
}
