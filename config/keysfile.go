package config

import (
	"fmt"
	"os"
)

// KeysFile returns the auth.keys_file of the config at path, anchored to the config file's
// directory ("" when it sets none), without selecting an environment or resolving any other
// reference, so managing keys needs none of the server's secrets. It returns a *ValidationError
// when the file's structure is invalid or keys_file's own ${VAR} cannot be resolved.
func KeysFile(path string, getenv func(string) string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("load config: %w", err)
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	d := &decoder{dir: dirOf(path)}
	var keysFile string
	if root, ok := d.document(b); ok {
		if raw := d.root(root); raw != nil {
			r := &resolver{decoder: d, getenv: getenv, readFile: os.ReadFile}
			keysFile = r.path(raw.auth.keysFile)
		}
	}
	if len(d.problems) > 0 {
		return "", &ValidationError{File: path, Problems: d.report()}
	}
	return keysFile, nil
}
