package config

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Secrets the fuzzer's getenv and readFile hand out; no error may quote them unless the input does.
const (
	fuzzEnvSecret  = "EnvSecret-7Qz9-kW3p-0123456789abcdefXY"
	fuzzFileSecret = "FileSecret-Lm4t-Vb8n-0123456789abcdefXY"
)

// FuzzParse checks that whatever the bytes, Parse returns a valid config or an error, never panics,
// and never quotes a secret it resolved.
func FuzzParse(f *testing.F) {
	samples, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range samples {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
		f.Add(b, "prod")
	}
	f.Add([]byte("catalog: c\ncursor_secret: ${S}\nenvironments: {dev: {sources: {a: {driver: postgres, dsn: 'postgres://u:${S}@h:x/db'}}}}"), "")
	f.Add([]byte("catalog: c\ncursor_secret: file:s\nenvironments: {dev: {sources: {a: {driver: mysql, dsn: 'file:${S}'}}}}"), "dev")
	f.Add([]byte("a: &a {<<: *a}\n"), "")
	getenv := func(name string) string {
		if name == "EMPTY" || name == EnvVar {
			return ""
		}
		return fuzzEnvSecret
	}
	readFile := func(path string) ([]byte, error) {
		if strings.Contains(path, "missing") {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return []byte(fuzzFileSecret + "\n"), nil
	}
	f.Fuzz(func(t *testing.T, b []byte, env string) {
		cfg, err := Parse(b, "fuzz.yaml", env, getenv, readFile)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v; want exactly one", cfg, err)
		}
		if err != nil {
			msg := err.Error()
			for _, secret := range []string{fuzzEnvSecret, fuzzFileSecret} {
				half := secret[:len(secret)/2]
				if strings.Contains(msg, half) && !bytes.Contains(b, []byte(half)) && !strings.Contains(env, half) {
					t.Fatalf("error quotes a secret:\n%s", msg)
				}
			}
			return
		}
		checkConfig(t, cfg)
	})
}

// checkConfig fails unless cfg obeys the contract Parse promises for a returned config.
func checkConfig(t *testing.T, cfg *Config) {
	t.Helper()
	if cfg.Env == "" || cfg.Catalog == "" || cfg.Listen == "" || len(cfg.Sources) == 0 {
		t.Fatalf("incomplete config: %v", cfg)
	}
	if len(cfg.CursorSecret) < minCursorSecret {
		t.Fatalf("cursor secret shorter than %d bytes", minCursorSecret)
	}
	for name, s := range cfg.Sources {
		if name != s.Name || s.DSN == "" || checkDSN(s.Driver, s.DSN) != "" {
			t.Fatalf("bad source %q: %v", name, s)
		}
		switch s.Driver {
		case "postgres", "mysql", "sqlite":
		default:
			t.Fatalf("source %q has driver %q", name, s.Driver)
		}
	}
	ids := make(map[string]bool)
	for _, k := range cfg.APIKeys {
		if len(k.Key) < minKeyLen || k.Tenant == "" || k.ID == "" || ids[k.ID] {
			t.Fatalf("bad API key %v", k)
		}
		ids[k.ID] = true
	}
}
