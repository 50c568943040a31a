package config

import (
	"fmt"
	"strings"
)

// ValidationError lists every problem found in a configuration file; no problem quotes a secret.
type ValidationError struct {
	File     string   // the file the problems are in ("" when parsed from bytes)
	Problems []string // each "line N: key.path: what is wrong (what is allowed)"
}

// Error returns the file name followed by all problems, one per line when there are several.
func (e *ValidationError) Error() string {
	file := e.File
	if file == "" {
		file = "config"
	}
	if len(e.Problems) == 1 {
		return file + ": " + e.Problems[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", file, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p)
	}
	return b.String()
}
