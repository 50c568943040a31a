package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
)

// filePrefix marks a value that is replaced by a file's content.
const filePrefix = "file:"

// piece is a run of literal text or a ${VAR} reference in a value.
type piece struct {
	text string // the literal text, or the variable name when ref is set
	ref  bool
}

// scanRefs splits s into literal text and ${VAR} references ($${ is a literal ${), or returns an
// error that quotes nothing from s.
func scanRefs(s string) ([]piece, error) {
	var out []piece
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			lit.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, errors.New("unterminated ${ reference (write $${ for a literal ${)")
			}
			name := s[i+2 : i+2+end]
			if !isVarName(name) {
				return nil, errors.New("invalid ${...} reference: a variable name is letters, digits and _, not starting with a digit (write $${ for a literal ${)")
			}
			if lit.Len() > 0 {
				out = append(out, piece{text: lit.String()})
				lit.Reset()
			}
			out = append(out, piece{text: name, ref: true})
			i += 3 + end
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	if lit.Len() > 0 {
		out = append(out, piece{text: lit.String()})
	}
	return out, nil
}

// isVarName reports whether s is a shell-style environment variable name.
func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// onlyRefs reports whether s consists of ${VAR} references and nothing else.
func onlyRefs(s string) bool {
	ps, err := scanRefs(s)
	if err != nil || len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		if !p.ref {
			return false
		}
	}
	return true
}

// isReference reports whether a secret value, as written, is a file: or ${VAR} reference rather than a literal.
func isReference(raw string) bool {
	return (strings.HasPrefix(raw, filePrefix) && len(raw) > len(filePrefix)) || onlyRefs(raw)
}

// hasLiteralPassword reports whether a DSN, as written, holds a password that is not a ${VAR} reference.
func hasLiteralPassword(raw string) bool {
	if isReference(raw) {
		return false
	}
	for _, sp := range secretSpans(raw) {
		if pw := raw[sp.start:sp.end]; pw != "" && !onlyRefs(pw) {
			return true
		}
	}
	return false
}

// expand replaces the ${VAR} references in s, reporting (by name, never by value) variables that
// are unset or empty; ok is false after any problem.
func (r *resolver) expand(f field, s string) (string, bool) {
	ps, err := scanRefs(s)
	if err != nil {
		r.addf(f.node, f.path, "%v", err)
		return "", false
	}
	var b strings.Builder
	ok := true
	for _, p := range ps {
		if !p.ref {
			b.WriteString(p.text)
			continue
		}
		v := r.getenv(p.text)
		if v == "" {
			r.addf(f.node, f.path, "environment variable %s is not set or empty", p.text)
			ok = false
		}
		b.WriteString(v)
	}
	return b.String(), ok
}

// secret resolves a secret value: file:path is the file's content without trailing newlines, anything
// else has its ${VAR} references expanded; ok is false after any problem.
func (r *resolver) secret(f field) (string, bool) {
	if !strings.HasPrefix(f.raw, filePrefix) {
		return r.expand(f, f.raw)
	}
	written := f.raw[len(filePrefix):]
	path, ok := r.expand(f, written)
	if !ok {
		return "", false
	}
	if path == "" {
		r.addf(f.node, f.path, "file: needs a path")
		return "", false
	}
	if !filepath.IsAbs(path) && r.dir != "" {
		path = filepath.Join(r.dir, path)
	}
	b, err := r.readFile(path)
	if err != nil {
		// A *PathError repeats the expanded path, which may carry a variable's value.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		r.addf(f.node, f.path, "cannot read file %q: %v", truncate(written, 80), err)
		return "", false
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		r.addf(f.node, f.path, "file %q is empty", truncate(written, 80))
		return "", false
	}
	return v, true
}
