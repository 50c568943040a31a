package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQuotaDefaults(t *testing.T) {
	cfg, err := Parse([]byte(authBase), "", "", fakeEnv(testEnvVars), fakeFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultQuota(), cfg.Quota); diff != "" {
		t.Errorf("quota (-want +got):\n%s", diff)
	}
	for _, class := range QuotaClasses {
		l, ok := DefaultPlan()[class]
		if !ok {
			t.Fatalf("DefaultPlan has no %s", class)
		}
		for _, w := range []Windows{l.Tenant, l.Credential} {
			if w.Burst.Limit > w.Sustained.Limit || w.Burst.Window < minBurst || w.Burst.Window > maxBurst ||
				w.Sustained.Window < minSustained || w.Sustained.Window > maxSustained {
				t.Errorf("DefaultPlan %s: %+v is outside what the config accepts", class, w)
			}
		}
	}
}

func TestQuotaSection(t *testing.T) {
	w := func(b int64, bw time.Duration, s int64, sw time.Duration) Windows { return rates(b, bw, s, sw) }
	std := DefaultPlan()
	gold := DefaultPlan()
	gold["lookup"] = ClassLimits{Tenant: w(600, 10*time.Second, 100000, time.Hour), Credential: w(300, 10*time.Second, 50000, time.Hour)}
	gold["search"] = ClassLimits{Tenant: w(60, 10*time.Second, 5000, 24*time.Hour), Credential: std["search"].Credential}
	gold["report"] = ClassLimits{Tenant: w(20, 10*time.Second, 1000, time.Hour), Credential: std["report"].Credential, Concurrency: 3}
	gold["export"] = ClassLimits{Tenant: std["export"].Tenant, Credential: std["export"].Credential, Concurrency: 0, RowsPerDay: 50000}
	bronze := DefaultPlan()
	bs := bronze["search"]
	bs.Credential.Sustained = Rate{500, 24 * time.Hour}
	bronze["search"] = bs
	dev := Quota{
		Enabled:      true,
		RedisURL:     "redis://:redis-pw-s3cret@10.0.0.5:6379/2",
		OnRedisError: "closed",
		AuthFailures: Rate{10, 30 * time.Second},
		DefaultPlan:  "bronze",
		Tenants:      map[string]string{"acme": "gold", "globex:eu": "standard"},
		Plans:        map[string]Plan{"standard": std, "gold": gold, "bronze": bronze},
		Weights:      map[string]int64{"lookup": 1, "search": 4, "report": 5, "export": 20},
	}
	bench := DefaultQuota()
	bench.Enabled = false
	const envURL = "rediss://cache.internal:6380/0"
	withEnv := dev
	withEnv.RedisURL = envURL

	for _, tc := range []struct {
		name  string
		env   string
		extra []string
		want  Quota
	}{
		{name: "top-level section", env: "dev", want: dev},
		{name: "the environment's section replaces it", env: "bench", want: bench},
		{name: "VIEWGATE_QUOTA_REDIS_URL overrides", env: "dev", extra: []string{QuotaRedisEnvVar, envURL}, want: withEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseFile(t, "quota_valid.yaml", tc.env, append([]string{"REDIS_PW", "redis-pw-s3cret"}, tc.extra...)...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cfg.Quota); diff != "" {
				t.Errorf("quota (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQuotaSectionInvalid(t *testing.T) {
	_, err := parseFile(t, "quota_invalid.yaml", "dev")
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Parse error = %v, want a *ValidationError", err)
	}
	msg := err.Error()
	want := []string{
		"line 4: quota.redis_url: must be a redis:// or rediss:// URL",
		`line 5: quota.on_redis_error: "maybe" is not open or closed`,
		`line 6: quota.auth_failures: must be a rate N/window like 60/10s or 5000/1h, N from 1 to 1000000000, got "lots"`,
		`line 7: quota.default_plan: unknown plan "platinum" (plans: gold, standard)`,
		`line 8: quota.tenants.initech: unknown plan "silver" (plans: gold, standard)`,
		"line 9: quota.limit: unknown key (allowed: enabled, redis_url, on_redis_error, auth_failures, default_plan, tenants, plans, weights)",
		`line 12: quota.plans.gold.lookup.tenant.burst: must be a rate N/window like 60/10s or 5000/1h, N from 1 to 1000000000, got "-5/10s"`,
		"line 13: quota.plans.gold.serch: unknown key (allowed: lookup, search, report, export)",
		`line 14: quota.plans.gold.search.tenant.burst: must be a rate N/window like 60/10s or 5000/1h, N from 1 to 1000000000, got "1h/10s"`,
		"line 14: quota.plans.gold.search.tenant.sustained: window must be from 1h to 1d, got 10m",
		"line 14: quota.plans.gold.search.credential.burst: limit 500 is above the sustained limit 400, so it could never be used",
		"line 15: quota.plans.gold.report.tenant.burst: window must be from 1s to 10m, got 1h",
		"line 15: quota.plans.gold.report.concurrency: must be from 0 to 10000, got -1",
		"line 15: quota.plans.gold.report.burts: unknown key (allowed: tenant, credential, concurrency)",
		`line 16: quota.plans.gold.export.credential.burst: the window must be a duration in whole seconds like 10s, 1m, 1h or 1d, got "5/1500ms"`,
		"line 16: quota.plans.gold.export.rows_per_day: must be from 0 to 1000000000, got -1",
		`line 17: quota.plans: plan name "bad name" must be letters`,
		"line 18: quota.weights.lookup: must be from 1 to 10000, got 0",
		"line 18: quota.weights.serch: unknown key (allowed: lookup, search, report, export)",
		`line 24: environments.prod.quota.redis_url: secrets must be ${ENV} or file: references in prod (environment "prod" uses a literal password in quota.redis_url)`,
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q", w)
		}
	}
	if len(verr.Problems) != len(want) {
		t.Errorf("got %d problems, want %d", len(verr.Problems), len(want))
	}
	for _, secret := range []string{"hunter2", "s3cr3t-literal"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error reveals %q", secret)
		}
	}
	if t.Failed() {
		t.Logf("error:\n%s", msg)
	}
}

func TestQuotaRedisURL(t *testing.T) {
	const secret = "pw-Zx81"
	for _, tc := range []struct {
		url, want string
	}{
		{url: "redis://127.0.0.1:6379/0"},
		{url: "rediss://user:" + secret + "@cache:6380"},
		{url: "redis://cache"},
		{url: "unix:///run/redis.sock", want: "must be a redis:// or rediss:// URL"},
		{url: "127.0.0.1:6379", want: "must be a redis:// or rediss:// URL"},
		{url: "redis:///0", want: "needs a host"},
		{url: "redis://cache:99999/0", want: "has a bad port"},
		{url: "redis://cache:6379/db", want: "path must be a database number"},
		{url: "redis://u:" + secret + "%zz@cache/0", want: "not a valid URL"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			got := checkRedisURL(tc.url)
			if !strings.Contains(got, tc.want) || (tc.want == "") != (got == "") {
				t.Errorf("checkRedisURL = %q, want %q", got, tc.want)
			}
			if strings.Contains(got, secret) {
				t.Errorf("reason reveals the password: %q", got)
			}
		})
	}
}

func TestQuotaEnvOverride(t *testing.T) {
	in := authBase + "quota: {redis_url: 'redis://127.0.0.1:6379/0'}\n"
	for _, tc := range []struct {
		name, env, want, wantErr string
	}{
		{name: "unset keeps the file's", want: "redis://127.0.0.1:6379/0"},
		{name: "set replaces it", env: "redis://other:6379/1", want: "redis://other:6379/1"},
		{name: "a bad value names the variable", env: "memcache://x:1:pw@h", wantErr: "VIEWGATE_QUOTA_REDIS_URL: must be a redis:// or rediss:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(in), "", "", fakeEnv(testEnvVars, QuotaRedisEnvVar, tc.env), fakeFiles(nil))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "pw@") {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cfg.Quota.RedisURL); diff != "" {
				t.Errorf("redis url (-want +got):\n%s", diff)
			}
		})
	}

	q := DemoQuota()
	if err := q.ApplyEnv(fakeEnv(nil)); err != nil || q.RedisURL != "" {
		t.Errorf("ApplyEnv without the variable: %v, %q", err, q.RedisURL)
	}
	if err := q.ApplyEnv(fakeEnv(nil, QuotaRedisEnvVar, "redis://127.0.0.1:6379/3")); err != nil || q.RedisURL != "redis://127.0.0.1:6379/3" {
		t.Errorf("ApplyEnv: %v, %q", err, q.RedisURL)
	}
	if err := q.ApplyEnv(fakeEnv(nil, QuotaRedisEnvVar, "http://x")); err == nil || !strings.Contains(err.Error(), QuotaRedisEnvVar) {
		t.Errorf("ApplyEnv of a bad URL: %v", err)
	}
}

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Rate
		wantErr bool
	}{
		{in: "60/10s", want: Rate{60, 10 * time.Second}},
		{in: "5000/1h", want: Rate{5000, time.Hour}},
		{in: "1/1d", want: Rate{1, 24 * time.Hour}},
		{in: "1000000000/1m30s", want: Rate{1000000000, 90 * time.Second}},
		{in: "0/10s", wantErr: true},
		{in: "1000000001/10s", wantErr: true},
		{in: "+5/10s", wantErr: true},
		{in: "5/", wantErr: true},
		{in: "5/1.5s", wantErr: true},
		{in: "5/0s", wantErr: true},
		{in: "5/-1h", wantErr: true},
		{in: "5 per 10s", wantErr: true},
		{in: "99999999999999999999/1s", wantErr: true},
	} {
		got, err := parseRate(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseRate(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseRate(%q) (-want +got):\n%s", tc.in, diff)
		}
		if err == nil && got.String() != strings.Replace(tc.in, "1m30s", "90s", 1) {
			t.Errorf("Rate.String() = %q, want %q", got.String(), tc.in)
		}
	}
}
