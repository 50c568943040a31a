package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

// testEnv is the process environment the samples are resolved against.
var testEnvVars = map[string]string{
	"VIEWGATE_CURSOR_SECRET": "cursor-secret-0123456789abcdef-0123456789",
	"CURSOR_SECRET":          "live-cursor-secret-0123456789abcdef-01",
	"ACME_KEY":               "acme-key-0123456789abcdef",
	"ACME_PROD_KEY":          "acme-prod-key-0123456789",
	"OTHER_KEY":              "other-key-0123456789abcdef",
	"ERP_PW":                 "erp-pw-s3cret",
	"SHOP_PW":                "shop-pw-s3cret",
	"MY_PW":                  "my-pw-s3cret",
	"SHORT_SECRET":           "too-short",
	"CATALOG_DIR":            "/srv/catalogs",
}

// testFiles are the secret files outside testdata that the samples name.
var testFileContents = map[string]string{
	"/run/secrets/cursor_secret": "prod-cursor-secret-0123456789abcdef-0123\n",
	"/run/secrets/erp_dsn":       "viewgate:prod-erp-pw@tcp(erp-replica:3306)/erp\r\n",
}

// fakeEnv returns a getenv over vars plus extra.
func fakeEnv(vars map[string]string, extra ...string) func(string) string {
	return func(k string) string {
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i] == k {
				return extra[i+1]
			}
		}
		return vars[k]
	}
}

// fakeFiles returns a readFile that serves files, then falls back to the real testdata directory.
func fakeFiles(files map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		if s, ok := files[path]; ok {
			return []byte(s), nil
		}
		if strings.HasPrefix(path, "testdata"+string(filepath.Separator)) {
			return os.ReadFile(path)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
}

// parseFile parses a testdata sample with the fakes.
func parseFile(t *testing.T, name, env string, extraEnv ...string) (*Config, error) {
	t.Helper()
	path := filepath.Join("testdata", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(b, path, env, fakeEnv(testEnvVars, extraEnv...), fakeFiles(testFileContents))
}

// fullLimits are the limits of testdata/valid_full.yaml: the defaults, with what it sets.
func fullLimits() Limits {
	l := DefaultLimits()
	l.MaxBodyBytes, l.MaxDepth, l.MaxFields, l.DefaultPageSize, l.DocCacheSize, l.RequestTimeout = 512<<10, 8, 200, 50, 0, 10*time.Second
	l.ExportStatementTimeout, l.ExportIdleTimeout = time.Hour, time.Minute
	return l
}

func TestParseValid(t *testing.T) {
	fullDev := &Config{
		File:         "testdata/valid_full.yaml",
		Env:          "dev",
		Listen:       "0.0.0.0:9090",
		Catalog:      "/etc/viewgate/catalog.yaml",
		CursorSecret: "cursor-secret-0123456789abcdef-0123456789",
		Sources: map[string]Source{
			"erp":  {Name: "erp", Driver: "postgres", DSN: "postgres://viewgate:erp-pw-s3cret@127.0.0.1:5432/erp?sslmode=disable", MaxConns: 4, StatementTimeout: 2 * time.Second},
			"shop": {Name: "shop", Driver: "mysql", DSN: "viewgate:shop-pw-s3cret@tcp(127.0.0.1:3306)/shop?parseTime=true", MaxConns: 10, StatementTimeout: 5 * time.Second},
		},
		APIKeys: []APIKey{
			{ID: "acme-reporting", Tenant: "acme", Roles: []string{"reporting"}, Key: "acme-key-0123456789abcdef"},
			{ID: "globex-analyst", Tenant: "globex", Roles: []string{"analyst", "pii"}, Key: "globex-key-0123456789abcdef"},
		},
		AllowAnonymous: &Principal{Tenant: "acme", Roles: []string{"reporting"}},
		Limits:         fullLimits(),
		QueryLog:       QueryLog{Path: "testdata/logs/query.jsonl", SlowThreshold: 250 * time.Millisecond, SlowLogPath: "/var/log/viewgate/slow.log", Plans: DefaultQueryLog().Plans},
		Auth:           DefaultAuth(),
		Quota:          DefaultQuota(),
	}
	fullStaging := *fullDev
	fullStaging.Env = "staging"
	fullStaging.Sources = map[string]Source{
		"erp": {Name: "erp", Driver: "postgres", DSN: "host=staging-db user=viewgate password=erp-pw-s3cret dbname=erp", MaxConns: 10, StatementTimeout: 5 * time.Second},
	}
	fullProd := *fullDev
	fullProd.Env, fullProd.Production, fullProd.AllowAnonymous = "prod", true, nil
	fullProd.CursorSecret = "prod-cursor-secret-0123456789abcdef-0123"
	fullProd.Sources = map[string]Source{
		"erp": {Name: "erp", Driver: "mysql", DSN: "viewgate:prod-erp-pw@tcp(erp-replica:3306)/erp", MaxConns: 50, StatementTimeout: 10 * time.Minute},
	}
	fullProd.APIKeys = []APIKey{{ID: "acme-prod", Tenant: "acme", Roles: []string{"reporting"}, Key: "acme-prod-key-0123456789"}}

	minimal := &Config{
		File:         "testdata/valid_minimal.yaml",
		Env:          "dev",
		Listen:       "127.0.0.1:8080",
		Catalog:      "testdata/catalog.yaml",
		CursorSecret: "cursor-secret-0123456789abcdef-0123456789",
		Sources:      map[string]Source{"demo": {Name: "demo", Driver: "sqlite", DSN: "testdata/demo.db", MaxConns: 10, StatementTimeout: 5 * time.Second}},
		Limits:       DefaultLimits(),
		QueryLog:     DefaultQueryLog(),
		Auth:         DefaultAuth(),
		Quota:        DefaultQuota(),
	}
	mergeErp := Source{Name: "erp", Driver: "postgres", DSN: "postgres://viewgate@erp-replica/erp", MaxConns: 10, StatementTimeout: 3 * time.Second}
	mergeLive := &Config{
		File:         "testdata/valid_merge.yaml",
		Env:          "live",
		Production:   true,
		Listen:       "127.0.0.1:8080",
		Catalog:      "testdata/catalog.yaml",
		CursorSecret: "live-cursor-secret-0123456789abcdef-01",
		Sources:      map[string]Source{"erp": mergeErp},
		Limits:       DefaultLimits(),
		QueryLog:     DefaultQueryLog(),
		Auth:         DefaultAuth(),
		Quota:        DefaultQuota(),
	}
	mergeQA := *mergeLive
	mergeQA.Env, mergeQA.Production = "qa", false
	mergeQA.CursorSecret = "${literal}-dev-cursor-secret-at-least-32-bytes"
	qaErp := mergeErp
	qaErp.MaxConns = 2
	mergeQA.Sources = map[string]Source{"erp": qaErp}

	sizes := *minimal
	sizes.File, sizes.Env = "testdata/valid_byte_sizes.yaml", "only"
	sizes.Sources = map[string]Source{"mem": {Name: "mem", Driver: "sqlite", DSN: "file:testdata/cache.db?mode=ro&_pragma=busy_timeout(5000)", MaxConns: 10, StatementTimeout: 5 * time.Second}}
	sizes.Limits.MaxBodyBytes = 2 << 20
	sizes.Limits.RequestTimeout = time.Minute

	noTenantDev := *minimal
	noTenantDev.File = "testdata/valid_no_tenant.yaml"
	noTenantDev.APIKeys = []APIKey{
		{ID: "dashboard", Roles: []string{"public"}, Key: "acme-key-0123456789abcdef"},
		{ID: "acme-reporting", Tenant: "acme", Roles: []string{"reporting"}, Key: "other-key-0123456789abcdef"},
	}
	noTenantDev.AllowAnonymous = &Principal{Roles: []string{"public"}}
	noTenantProd := noTenantDev
	noTenantProd.Env, noTenantProd.Production, noTenantProd.AllowAnonymous = "prod", true, nil
	noTenantProd.CursorSecret = "prod-cursor-secret-0123456789abcdef-0123"

	tests := []struct {
		name     string
		file     string
		env      string
		extraEnv []string
		want     *Config
	}{
		{name: "no tenant, anonymous in dev", file: "valid_no_tenant.yaml", env: "dev", want: &noTenantDev},
		{name: "no tenant, no anonymous in prod", file: "valid_no_tenant.yaml", env: "prod", want: &noTenantProd},
		{name: "full, default_env", file: "valid_full.yaml", want: fullDev},
		{name: "full, VIEWGATE_ENV", file: "valid_full.yaml", extraEnv: []string{"VIEWGATE_ENV", "staging"}, want: &fullStaging},
		{name: "full, env argument beats VIEWGATE_ENV", file: "valid_full.yaml", env: "prod", extraEnv: []string{"VIEWGATE_ENV", "staging"}, want: &fullProd},
		{name: "minimal, only environment", file: "valid_minimal.yaml", want: minimal},
		{name: "merge, production flag", file: "valid_merge.yaml", env: "live", want: mergeLive},
		{name: "merge, override and escape", file: "valid_merge.yaml", env: "qa", want: &mergeQA},
		{name: "byte sizes and sqlite uri", file: "valid_byte_sizes.yaml", want: &sizes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFile(t, tc.file, tc.env, tc.extraEnv...)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(singleReplicas(tc.want), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		file     string
		env      string
		problems int
		want     []string // substrings of the error
		secrets  []string // must not appear in the error
	}{
		{file: "invalid_syntax.yaml", problems: 1, want: []string{"testdata/invalid_syntax.yaml: invalid YAML: line 4:"}},
		{file: "invalid_empty.yaml", problems: 1, want: []string{"the file is empty"}},
		{file: "invalid_not_a_mapping.yaml", problems: 1, want: []string{"line 1: must be a mapping"}},
		{file: "invalid_alias_bomb.yaml", problems: 1, want: []string{"anchors and aliases expand to more than 100000 nodes"}},
		{file: "invalid_alias_cycle.yaml", problems: 1, want: []string{"or an anchor contains itself"}},
		{file: "invalid_two_documents.yaml", problems: 2, want: []string{"line 2: the file holds more than one YAML document"}},
		{file: "invalid_unknown_keys.yaml", problems: 4, secrets: []string{"hunter2"}, want: []string{
			"line 1: lisen: unknown key (allowed: listen, catalog,",
			"limits.max_deph: unknown key (allowed: max_body_bytes, max_depth,",
			"environments.dev.source: unknown key (allowed: production, sources, api_keys, cursor_secret, quota, allow_anonymous)",
			"environments.dev.sources.erp.pasword: unknown key (allowed: driver, dsn, max_conns, statement_timeout, ",
		}},
		{file: "invalid_types.yaml", problems: 13, want: []string{
			`listen: "localhost" must be host:port`,
			"line 2: catalog: must be a string",
			"api_keys[0].roles: must be a list of strings",
			`limits.max_body_bytes: must be a byte count or a size like 512KiB or 1MiB, got "1XB"`,
			"limits.max_depth: must be from 1 to 100, got 0",
			`limits.max_fields: must be an integer from 1 to 100000, got "lots"`,
			"limits.default_page_size: must be from 1 to 10000, got 20000",
			"limits.doc_cache_size: must be from 0 to 1000000, got -1",
			`limits.request_timeout: must be a duration like 500ms, 5s or 1m, got "30"`,
			"query_log.slow_threshold: must be from 0s to 1h0m0s, got -1s",
			`environments.dev.production: must be true or false, got "maybe"`,
			"environments.dev.sources.erp.max_conns: must be from 1 to 1000, got 5000",
			"environments.dev.sources.erp.statement_timeout: must be from 100ms to 10m0s, got 50ms",
		}},
		{file: "invalid_drivers.yaml", problems: 4, want: []string{
			`environments.dev.sources.erp.driver: unknown driver "postgress" (allowed: postgres, mysql, sqlite)`,
			"environments.dev.sources.shop.driver: is required (allowed: postgres, mysql, sqlite)",
			"environments.dev.sources.demo.dsn: is required",
			`environments.dev.sources: source name "bad name" must be`,
		}},
		{file: "invalid_prod_literals.yaml", env: "dev", problems: 6,
			secrets: []string{"hunter2", "dev-only"},
			want: []string{
				`line 2: cursor_secret: secrets must be ${ENV} or file: references in prod (environment "prod"`,
				"line 4: api_keys[0].key: secrets must be ${ENV} or file: references in prod",
				"environments.prod.sources.erp.dsn: secrets must be ${ENV} or file: references in prod",
				"environments.prod.sources.kv.dsn: secrets must be ${ENV} or file: references in prod",
				"environments.prod.sources.shop.dsn: secrets must be ${ENV} or file: references in prod",
				`environments.live.api_keys[0].key: secrets must be ${ENV} or file: references in prod (environment "live"`,
			}},
		{file: "invalid_api_keys.yaml", problems: 7, secrets: []string{testEnvVars["ACME_KEY"]}, want: []string{
			`api_keys[1].id: duplicate id "acme" (also api_keys[0])`,
			`api_keys[2].id: "no spaces" must be letters`,
			"api_keys[2].roles[0]: must not be empty",
			"api_keys[2].key: is the same key as api_keys[0]",
			"api_keys[3].id: is required",
			"api_keys[3].key: is required",
			"api_keys[4]: must be a mapping",
		}},
		{file: "invalid_prod_anonymous.yaml", env: "dev", problems: 2, want: []string{
			`line 3: allow_anonymous: is refused in production environments (environment "prod" uses it): give every caller an API key or a token; to allow it elsewhere, set environments.<name>.allow_anonymous there instead`,
			`line 11: environments.live.allow_anonymous: is refused in production environments (environment "live" uses it): give every caller an API key or a token`,
		}},
		{file: "invalid_environments.yaml", env: "prod", problems: 4, want: []string{
			`default_env: unknown environment "qa" (available: dev, prod, staging)`,
			"environments.dev.sources: must name at least one source",
			"environments.staging.sources: is required",
			"environments.prod.production: cannot be false",
		}},
		{file: "invalid_environments.yaml", env: "qa", problems: 5, want: []string{
			`unknown environment "qa" (available: dev, prod, staging)`,
		}},
		{file: "invalid_empty_environments.yaml", problems: 2, want: []string{
			"catalog: is required",
			"environments: must name at least one environment",
		}},
		{file: "invalid_dsns.yaml", problems: 7, secrets: []string{"hunter2", testEnvVars["MY_PW"]}, want: []string{
			"environments.dev.sources.pgurl.dsn: not a valid postgres URL: percent-encode",
			"environments.dev.sources.pgkv.dsn: not a valid postgres DSN",
			"environments.dev.sources.myaddr.dsn: not a valid mysql DSN: want a protocol and address",
			"environments.dev.sources.myslash.dsn: not a valid mysql DSN: missing /dbname",
			"environments.dev.sources.mydb.dsn: after resolving references: not a valid mysql DSN: tcp(...) address must be host:port",
			"environments.dev.sources.lite.dsn: not a valid sqlite DSN: file: URI needs a path",
			"environments.dev.sources.other.dsn: not a postgres DSN",
		}},
		{file: "invalid_secret_refs.yaml", env: "dev", problems: 8,
			secrets: []string{testEnvVars["SHORT_SECRET"], testEnvVars["ACME_KEY"], testEnvVars["ERP_PW"]},
			want: []string{
				"cursor_secret: is shorter than 32 bytes",
				"api_keys[0].key: environment variable UNSET_KEY is not set or empty",
				"api_keys[1].key: unterminated ${ reference",
				"api_keys[2].key: invalid ${...} reference",
				`api_keys[3].key: cannot read file "secrets/missing": `,
				`api_keys[4].key: file "secrets/empty" is empty`,
				"api_keys[5].key: is shorter than 16 characters",
				"api_keys[7].key: is the same key as api_keys[6]",
			}},
	}
	covered := make(map[string]bool)
	for _, tc := range tests {
		covered[tc.file] = true
		t.Run(strings.TrimSuffix(tc.file, ".yaml")+"/"+tc.env, func(t *testing.T) {
			_, err := parseFile(t, tc.file, tc.env)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse error = %v, want a *ValidationError", err)
			}
			if got := filepath.Base(verr.File); got != tc.file {
				t.Errorf("ValidationError.File = %q, want %q", got, tc.file)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, verr.File+": ") {
				t.Errorf("error does not start with the file name:\n%s", msg)
			}
			if len(verr.Problems) != tc.problems {
				t.Errorf("got %d problems, want %d:\n%s", len(verr.Problems), tc.problems, msg)
			}
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			for _, secret := range tc.secrets {
				if strings.Contains(msg, secret) {
					t.Errorf("error reveals secret %q:\n%s", secret, msg)
				}
			}
		})
	}
	samples, err := filepath.Glob("testdata/invalid_*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if !covered[filepath.Base(s)] {
			t.Errorf("%s has no case in TestParseInvalid", s)
		}
	}
}

// TestValidSamplesCovered keeps every valid sample in TestParseValid.
func TestValidSamplesCovered(t *testing.T) {
	samples, err := filepath.Glob("testdata/valid_*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range samples {
		got = append(got, filepath.Base(s))
	}
	want := []string{"valid_byte_sizes.yaml", "valid_full.yaml", "valid_merge.yaml", "valid_minimal.yaml", "valid_no_tenant.yaml"}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("valid samples changed; add a TestParseValid case (-want +got):\n%s", diff)
	}
}

func TestSelectEnv(t *testing.T) {
	const base = "catalog: c.yaml\ncursor_secret: ${S}\n"
	const twoEnvs = "environments:\n  dev: {sources: {a: {driver: sqlite, dsn: a.db}}}\n  prod: {sources: {a: {driver: sqlite, dsn: b.db}}}\n"
	tests := []struct {
		name    string
		yaml    string
		env     string
		envVar  string
		want    string // selected environment
		wantErr string
	}{
		{name: "argument", yaml: twoEnvs, env: "prod", envVar: "dev", want: "prod"},
		{name: "VIEWGATE_ENV", yaml: twoEnvs, envVar: "prod", want: "prod"},
		{name: "default_env", yaml: "default_env: prod\n" + twoEnvs, want: "prod"},
		{name: "VIEWGATE_ENV beats default_env", yaml: "default_env: prod\n" + twoEnvs, envVar: "dev", want: "dev"},
		{name: "only one", yaml: "environments:\n  local: {sources: {a: {driver: sqlite, dsn: a.db}}}\n", want: "local"},
		{name: "ambiguous", yaml: twoEnvs, wantErr: "config: no environment selected: pass one, set VIEWGATE_ENV or set default_env (available: dev, prod)"},
		{name: "unknown", yaml: twoEnvs, env: "qa", wantErr: `config: unknown environment "qa" (available: dev, prod)`},
		{name: "unknown from VIEWGATE_ENV", yaml: twoEnvs, envVar: "qa", wantErr: `config: unknown environment "qa" (available: dev, prod)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := fakeEnv(map[string]string{"S": strings.Repeat("s", 32), EnvVar: tc.envVar})
			cfg, err := Parse([]byte(base+tc.yaml), "", tc.env, getenv, nil)
			var got, gotErr string
			if err != nil {
				gotErr = err.Error()
			} else {
				got = cfg.Env
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("Parse error mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("selected environment mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFromBytesKeepsRelativePaths(t *testing.T) {
	src := "catalog: catalog.yaml\ncursor_secret: ${S}\nquery_log: {path: q.log}\n" +
		"environments:\n  dev: {sources: {a: {driver: sqlite, dsn: 'file:a.db?mode=ro'}}}\n"
	cfg, err := Parse([]byte(src), "", "", fakeEnv(map[string]string{"S": strings.Repeat("s", 32)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.File, cfg.Catalog, cfg.QueryLog.Path, cfg.Sources["a"].DSN}
	want := []string{"", "catalog.yaml", "q.log", "file:a.db?mode=ro"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths mismatch (-want +got):\n%s", diff)
	}
}

func TestLoad(t *testing.T) {
	getenv := fakeEnv(testEnvVars, EnvVar, "dev")
	cfg, err := Load("testdata/valid_minimal.yaml", "", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"testdata/valid_minimal.yaml", "dev"}, []string{cfg.File, cfg.Env}); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}

	_, err = Load("testdata/no_such_file.yaml", "", getenv)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: err = %v, want fs.ErrNotExist", err)
	}
}

func TestConfigStringHidesSecrets(t *testing.T) {
	cfg, err := parseFile(t, "valid_full.yaml", "dev")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.String() + " " + cfg.APIKeys[0].String()
	for _, secret := range []string{testEnvVars["ERP_PW"], testEnvVars["SHOP_PW"], testEnvVars["ACME_KEY"], testEnvVars["VIEWGATE_CURSOR_SECRET"]} {
		if strings.Contains(s, secret) {
			t.Errorf("String() reveals %q: %s", secret, s)
		}
	}
}

// nodeAtLine returns a scalar node that claims to be on line.
func nodeAtLine(line int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Line: line}
}

// TestKeysFile: the keys file path is read without resolving any secret, and anchored to the
// config's directory; a structural problem is still reported.
func TestKeysFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const rest = "catalog: c.yaml\ncursor_secret: ${UNSET_SECRET}\napi_keys: [{id: a, key: '${UNSET_KEY}'}]\n" +
		"environments: {prod: {sources: {a: {driver: postgres, dsn: 'file:/nonexistent/dsn'}}}}\n"
	getenv := fakeEnv(map[string]string{"KEYS": "k"})
	for _, tc := range []struct {
		name, body, want, wantErr string
	}{
		{"relative", "auth: {keys_file: keys.yaml}\n" + rest, filepath.Join(dir, "keys.yaml"), ""},
		{"reference", "auth: {keys_file: '/srv/${KEYS}.yaml'}\n" + rest, "/srv/k.yaml", ""},
		{"none", rest, "", ""},
		{"unset reference", "auth: {keys_file: '${NOPE}.yaml'}\n" + rest, "", "auth.keys_file: environment variable NOPE is not set"},
		{"unknown key", "auth: {keys_fil: keys.yaml}\n" + rest, "", "line 1: auth.keys_fil: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := KeysFile(write(tc.name+".yaml", tc.body), getenv)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("keys file (-want +got):\n%s", diff)
			}
		})
	}
}
