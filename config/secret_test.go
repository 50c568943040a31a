package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestResolveSecret(t *testing.T) {
	getenv := fakeEnv(map[string]string{"A": "alpha", "B": "beta", "DIR": "/vault-s3cret-dir"})
	readFile := fakeFiles(map[string]string{
		"/run/secrets/pw":           "file-pw\n",
		"conf/rel/pw":               "relative-pw\r\n\n",
		"/multi":                    "line1\nline2\n",
		"/vault-s3cret-dir/pw":      "vault-pw",
		"/empty":                    "\n",
		"conf/${A}-literal-name.pw": "escaped-path-pw",
	})
	tests := []struct {
		name     string
		raw      string
		want     string
		problems []string
	}{
		{name: "literal", raw: "plain-text", want: "plain-text"},
		{name: "reference", raw: "${A}", want: "alpha"},
		{name: "embedded references", raw: "x-${A}:${B}-y", want: "x-alpha:beta-y"},
		{name: "escape", raw: "$${A}", want: "${A}"},
		{name: "dollar without brace", raw: "$A$$B", want: "$A$$B"},
		{name: "unset", raw: "${A}${UNSET}", problems: []string{"line 7: k: environment variable UNSET is not set or empty"}},
		{name: "unterminated", raw: "pre${A", problems: []string{"line 7: k: unterminated ${ reference (write $${ for a literal ${)"}},
		{name: "empty name", raw: "${}", problems: []string{"line 7: k: invalid ${...} reference: a variable name is letters, digits and _, not starting with a digit (write $${ for a literal ${)"}},
		{name: "bad name", raw: "${A:-default}", problems: []string{"line 7: k: invalid ${...} reference: a variable name is letters, digits and _, not starting with a digit (write $${ for a literal ${)"}},
		{name: "absolute file", raw: "file:/run/secrets/pw", want: "file-pw"},
		{name: "relative file", raw: "file:rel/pw", want: "relative-pw"},
		{name: "inner newlines kept", raw: "file:/multi", want: "line1\nline2"},
		{name: "reference in file path", raw: "file:${DIR}/pw", want: "vault-pw"},
		{name: "escape in file path", raw: "file:$${A}-literal-name.pw", want: "escaped-path-pw"},
		{name: "file without path", raw: "file:", problems: []string{"line 7: k: file: needs a path"}},
		{name: "missing file", raw: "file:/missing", problems: []string{`line 7: k: cannot read file "/missing": file does not exist`}},
		{name: "missing file under a reference", raw: "file:${DIR}/missing", problems: []string{`line 7: k: cannot read file "${DIR}/missing": file does not exist`}},
		{name: "empty file", raw: "file:/empty", problems: []string{`line 7: k: file "/empty" is empty`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &resolver{decoder: &decoder{dir: "conf"}, getenv: getenv, readFile: readFile}
			f := field{node: nodeAtLine(7), path: "k", raw: tc.raw, set: true}
			got, ok := r.secret(f)
			if !ok {
				got = ""
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("secret(%q) mismatch (-want +got):\n%s", tc.raw, diff)
			}
			if diff := cmp.Diff(tc.problems, r.report(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("secret(%q) problems mismatch (-want +got):\n%s", tc.raw, diff)
			}
			if ok != (tc.problems == nil) {
				t.Errorf("secret(%q) ok = %v with problems %q", tc.raw, ok, tc.problems)
			}
		})
	}
}

func TestIsReference(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{"${A}", true},
		{"${A}${B}", true},
		{"file:/run/secrets/x", true},
		{"file:rel", true},
		{"file:", false},
		{"x${A}", false},
		{"${A}x", false},
		{"literal", false},
		{"", false},
		{"$${A}", false},
		{"${A", false},
	}
	for _, tc := range tests {
		if got := isReference(tc.raw); got != tc.want {
			t.Errorf("isReference(%q) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

func TestHasLiteralPassword(t *testing.T) {
	tests := []struct {
		dsn  string
		want bool
	}{
		{"postgres://u:${PW}@h/db", false},
		{"postgres://${USER}:${PW}@h/db", false},
		{"postgres://u:pw@h/db", true},
		{"postgres://u:pre${PW}@h/db", true},
		{"postgres://u@h/db", false},
		{"postgres://h/db?password=pw", true},
		{"postgres://h/db?password=${PW}", false},
		{"${DSN}", false},
		{"file:/run/secrets/dsn", false},
		{"host=h password=${PW}", false},
		{"host=h password='${PW}'", false},
		{"host=h password=pw", true},
		{"host=h user=u", false},
		{"u:${PW}@tcp(h:3306)/db", false},
		{"u:pw@tcp(h:3306)/db", true},
		{"u@tcp(h:3306)/db", false},
	}
	for _, tc := range tests {
		if got := hasLiteralPassword(tc.dsn); got != tc.want {
			t.Errorf("hasLiteralPassword(%q) = %v, want %v", tc.dsn, got, tc.want)
		}
	}
}

func TestProductionRules(t *testing.T) {
	const head = "catalog: c.yaml\n"
	const devSources = "    sources: {a: {driver: postgres, dsn: 'postgres://u:dev-pw@h/db'}}\n"
	tests := []struct {
		name    string
		yaml    string
		env     string
		wantErr string // "" for success
	}{
		{
			name: "prod overrides the top-level literals",
			yaml: head + "cursor_secret: dev-cursor-secret-0123456789abcdef-0123\n" +
				"api_keys: [{id: k, tenant: t, key: dev-key-0123456789}]\n" +
				"environments:\n  dev:\n" + devSources +
				"  prod:\n    cursor_secret: ${CURSOR}\n    api_keys: [{id: k, tenant: t, key: '${KEY}'}]\n" +
				"    sources: {a: {driver: postgres, dsn: 'postgres://u:${PW}@h/db'}}\n",
			env: "dev",
		},
		{
			name: "prod inherits a top-level literal key",
			yaml: head + "cursor_secret: ${CURSOR}\napi_keys: [{id: k, tenant: t, key: dev-key-0123456789}]\n" +
				"environments:\n  dev:\n" + devSources +
				"  prod:\n    sources: {a: {driver: postgres, dsn: '${DSN}'}}\n",
			env:     "dev",
			wantErr: `config: line 3: api_keys[0].key: secrets must be ${ENV} or file: references in prod (environment "prod" uses a literal API key)`,
		},
		{
			name: "production flag on another name",
			yaml: head + "cursor_secret: ${CURSOR}\nenvironments:\n  live:\n    production: true\n" +
				"    sources: {a: {driver: mysql, dsn: 'u:live-pw@tcp(h:3306)/db'}}\n",
			wantErr: `config: line 6: environments.live.sources.a.dsn: secrets must be ${ENV} or file: references in prod (environment "live" uses a literal password in its DSN)`,
		},
		{
			name: "prod allows sqlite paths and password-less DSNs",
			yaml: head + "cursor_secret: file:/run/secrets/cursor\nenvironments:\n  prod:\n" +
				"    sources: {a: {driver: sqlite, dsn: 'file:demo.db?mode=ro'}, b: {driver: postgres, dsn: 'postgres://u@h/db'}}\n",
		},
		{
			name: "dev allows literals",
			yaml: head + "cursor_secret: dev-cursor-secret-0123456789abcdef-0123\n" +
				"api_keys: [{id: k, tenant: t, key: dev-key-0123456789}]\nenvironments:\n  dev:\n" + devSources,
		},
	}
	getenv := fakeEnv(map[string]string{
		"CURSOR": strings.Repeat("c", 32), "KEY": "prod-key-0123456789", "PW": "prod-pw", "DSN": "postgres://u:x@h/db",
	})
	readFile := fakeFiles(map[string]string{"/run/secrets/cursor": strings.Repeat("f", 32)})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "", tc.env, getenv, readFile)
			var got string
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, got); diff != "" {
				t.Errorf("Parse error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestErrorsNeverQuoteSecrets builds broken configs around known secrets and checks no error shows them.
func TestErrorsNeverQuoteSecrets(t *testing.T) {
	const pw = "Sup3r-Secret-Pw"
	tests := []struct {
		name string
		yaml string
	}{
		{"bad postgres url", "dsn: 'postgres://u:" + pw + "/x@h:bad/db'"},
		{"bad postgres url from env", "dsn: 'postgres://u:${PW}@h:bad/db'"},
		{"bad key=value", "dsn: 'host=h password=" + pw + " junk'"},
		{"bad mysql", "dsn: 'u:" + pw + "@h:3306/db'"},
		{"bad mysql from file", "dsn: 'file:/dsn'"},
		{"dsn of the wrong type", "dsn: ['" + pw + "']"},
		{"literal in prod", "dsn: 'postgres://u:" + pw + "@h/db'"},
		{"unknown driver", "dsn: 'postgres://u:" + pw + "@h/db'"},
	}
	getenv := fakeEnv(map[string]string{"PW": pw, "CURSOR": strings.Repeat("c", 32)})
	readFile := fakeFiles(map[string]string{"/dsn": "u:" + pw + "@tcp(h:notaport)/db"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			driver := "postgres"
			if strings.Contains(tc.name, "mysql") {
				driver = "mysql"
			}
			if tc.name == "unknown driver" {
				driver = "postgress"
			}
			src := "catalog: c.yaml\ncursor_secret: ${CURSOR}\nenvironments:\n  prod:\n    sources:\n      a:\n" +
				"        driver: " + driver + "\n        " + tc.yaml + "\n"
			_, err := Parse([]byte(src), "cfg.yaml", "", getenv, readFile)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error reveals the password:\n%v", err)
			}
		})
	}
}
