package server_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden responses (from SQLite; the other engines must then agree)")

// golden is one recorded request and the response every engine must give, byte for byte.
type golden struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// TestGolden runs every case under testdata/golden on every engine. A case is a folder with
// query.graphql, optional vars.json, optional key (acme, globex, public, bad or none; default
// acme) and the expected response.json.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/golden/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s := newStack(t, engine)
			for _, dir := range dirs {
				t.Run(filepath.Base(dir), func(t *testing.T) {
					runGolden(t, s, dir, *update && engine == "sqlite")
				})
			}
		})
	}
}

func runGolden(t *testing.T, s *stack, dir string, write bool) {
	query, err := os.ReadFile(filepath.Join(dir, "query.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	req := map[string]any{"query": string(query)}
	if vars, err := os.ReadFile(filepath.Join(dir, "vars.json")); err == nil {
		req["variables"] = json.RawMessage(vars)
	}
	key := "acme"
	if k, err := os.ReadFile(filepath.Join(dir, "key")); err == nil {
		key = strings.TrimSpace(string(k))
	}
	body, _ := json.Marshal(req)
	got := exchange(t, s, s.h, key, body)
	path := filepath.Join(dir, "response.json")
	if write {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server -run TestGolden/sqlite -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", dir, diff)
	}
	// graphql-go's own completion, and its executor on the execution schema, must give the
	// same bytes as the compiled operations.
	if diff := cmp.Diff(string(want), string(exchange(t, s, s.full, key, body))); diff != "" {
		t.Errorf("%s: the full graphql-go path differs (-want +got):\n%s", dir, diff)
	}
	if diff := cmp.Diff(string(want), string(exchange(t, s, s.interpreted, key, body))); diff != "" {
		t.Errorf("%s: graphql-go's executor on the execution schema differs (-want +got):\n%s", dir, diff)
	}
}

// exchange sends one request to h and returns status and body as a golden file's bytes. It
// accepts application/graphql-response+json, so request errors keep their 4xx (the legacy
// application/json answers them with 200: TestRequestErrorStatus).
func exchange(t *testing.T, s *stack, h http.Handler, key string, body []byte) []byte {
	t.Helper()
	req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	if k, ok := testKeys[key]; ok {
		req.Header.Set("X-API-Key", k)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %q for a body of %d bytes", cl, rec.Body.Len())
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, rec.Body.Bytes(), "  ", "  "); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, rec.Body.String())
	}
	got, _ := json.MarshalIndent(golden{Status: rec.Code, Body: pretty.Bytes()}, "", "  ")
	return append(got, '\n')
}
