package config

import (
	"fmt"
	"os"
	"strings"
)

// LoadSource reads the file at path and returns a Config holding one source of environment env,
// with that source's DSNs resolved, for commands that need a database before there is a catalog
// (viewgate catalog init). Only the file's structure and that source's references are checked:
// the catalog may not exist yet, and the cursor secret, the API keys and the other sources'
// secrets may be unset. An empty source picks the environment's only one. It returns a
// *ValidationError for problems in the file, or when the environment has no such source.
func LoadSource(path, env, source string, getenv func(string) string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return ParseSource(b, path, env, source, getenv, os.ReadFile)
}

// ParseSource is LoadSource on the bytes b of file; nil getenv and readFile mean os.Getenv and
// os.ReadFile.
func ParseSource(b []byte, file, env, source string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	d := &decoder{dir: dirOf(file)}
	root, ok := d.document(b)
	var cfg *Config
	if ok {
		if raw := d.root(root); raw != nil {
			r := &resolver{decoder: d, getenv: getenv, readFile: readFile}
			cfg = r.oneSource(raw, file, env, source)
		}
	}
	if len(d.problems) > 0 {
		return nil, &ValidationError{File: file, Problems: d.report()}
	}
	return cfg, nil
}

// oneSource resolves the source called name (or the only one) of the selected environment.
func (r *resolver) oneSource(raw *rawConfig, file, env, name string) *Config {
	e := r.selectEnv(raw, env)
	if e == nil {
		return nil
	}
	var names []string
	var found *rawSource
	for i, s := range e.sources {
		names = append(names, s.src.Name)
		if s.src.Name == name || name == "" && len(e.sources) == 1 {
			found = &e.sources[i]
		}
	}
	if found == nil {
		what := "name one with -source"
		if name != "" {
			what = "no source " + `"` + truncate(name, 40) + `"`
		}
		r.addf(nil, join(join("environments", e.name), "sources"), "%s (available: %s)", what, strings.Join(names, ", "))
		return nil
	}
	r.literalDSNs(&rawEnv{sources: []rawSource{*found}})
	src := found.src
	if !r.resolveReplicas(*found, &src) {
		return nil // reported
	}
	return &Config{File: file, Env: e.name, Production: e.production, Sources: map[string]Source{src.Name: src}}
}
