package quota

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/config"
)

// epoch is window-aligned for every window the tests use (10s, 1m, 1h).
var epoch = time.Unix(1_800_000_000, 0)

// clock is a fake clock the tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: epoch} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

func rates(b int64, bw time.Duration, s int64, sw time.Duration) config.Windows {
	return config.Windows{Burst: config.Rate{Limit: b, Window: bw}, Sustained: config.Rate{Limit: s, Window: sw}}
}

// testQuota is small enough to exhaust by hand:
//
//	lookup: tenant 10/10s + 25/1h, credential 6/10s + 1000/1h
//	search: tenant and credential 4/10s + 100/1h
//	report: 100/10s everywhere, at most 2 at once; export likewise, at most 1
//	auth failures: 3/1m
func testQuota() config.Quota {
	q := config.DefaultQuota()
	wide := rates(100, 10*time.Second, 1000, time.Hour)
	q.Plans["standard"] = config.Plan{
		"lookup": {Tenant: rates(10, 10*time.Second, 25, time.Hour), Credential: rates(6, 10*time.Second, 1000, time.Hour)},
		"search": {Tenant: rates(4, 10*time.Second, 100, time.Hour), Credential: rates(4, 10*time.Second, 100, time.Hour)},
		"report": {Tenant: wide, Credential: wide, Concurrency: 2},
		"export": {Tenant: wide, Credential: wide, Concurrency: 1},
	}
	q.AuthFailures = config.Rate{Limit: 3, Window: time.Minute}
	return q
}

func newLimiter(t *testing.T, q config.Quota, c *clock, o Options) *Limiter {
	t.Helper()
	o.Now = c.Now
	l, err := New(q, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

var (
	acmeA  = Subject{Tenant: "acme", Credential: "acme-a"}
	acmeB  = Subject{Tenant: "acme", Credential: "acme-b"}
	globex = Subject{Tenant: "globex", Credential: "globex-a"}
)

func lookup(n int64) map[Class]int64 { return map[Class]int64{Lookup: n} }
func search(n int64) map[Class]int64 { return map[Class]int64{Search: n} }

// step is one Charge and what it must answer: "" for allowed, else the refusal as scope/window.
type step struct {
	s     Subject
	costs map[Class]int64
	want  string
}

// run charges the steps in order and reports every mismatch.
func run(t *testing.T, l *Limiter, steps []step) {
	t.Helper()
	for i, st := range steps {
		_, err := l.Charge(context.Background(), st.s, st.costs)
		if got := refusal(t, err); got != st.want {
			t.Errorf("step %d (%s %v): got %q, want %q", i, st.s.Credential, st.costs, got, st.want)
		}
	}
}

func refusal(t *testing.T, err error) string {
	t.Helper()
	var ex *ExceededError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ex):
		return ex.Scope + "/" + ex.Window
	}
	t.Fatalf("Charge: %v", err)
	return ""
}

// repeat returns n copies of st.
func repeat(n int, st step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = st
	}
	return out
}

func TestBurstThenNextWindow(t *testing.T) {
	forStores(t, func(t *testing.T, mk maker) {
		c := newClock()
		l := mk(t, testQuota(), c, Options{})
		run(t, l, repeat(6, step{acmeA, lookup(1), ""}))
		run(t, l, []step{{acmeA, lookup(1), "credential/burst"}})
		c.Add(9*time.Second + 999*time.Millisecond)
		run(t, l, []step{{acmeA, lookup(1), "credential/burst"}})
		c.Add(time.Millisecond) // the next 10s window
		run(t, l, repeat(6, step{acmeA, lookup(1), ""}))
		run(t, l, []step{{acmeA, lookup(1), "credential/burst"}})
	})
}

func TestSustainedAcrossBurstWindows(t *testing.T) {
	forStores(t, func(t *testing.T, mk maker) {
		c := newClock()
		l := mk(t, testQuota(), c, Options{})
		// The tenant's sustained 25/1h ends in the third 10s window, with bursts of 10 from two keys.
		for w := 0; w < 2; w++ {
			run(t, l, repeat(5, step{acmeA, lookup(1), ""}))
			run(t, l, repeat(5, step{acmeB, lookup(1), ""}))
			run(t, l, []step{{acmeB, lookup(1), "tenant/burst"}})
			c.Add(10 * time.Second)
		}
		run(t, l, repeat(5, step{acmeA, lookup(1), ""}))
		run(t, l, []step{{acmeB, lookup(1), "tenant/sustained"}})
		c.Add(10 * time.Second)
		_, err := l.Charge(context.Background(), acmeB, lookup(1))
		var ex *ExceededError
		if !errors.As(err, &ex) {
			t.Fatalf("Charge after the sustained window is spent: %v", err)
		}
		want := &ExceededError{Class: Lookup, Scope: ScopeTenant, Window: WindowSustained, Limit: 25, Remaining: 0, Cost: 1,
			Period: time.Hour, ResetAt: epoch.Add(time.Hour), RetryAfter: time.Hour - 30*time.Second}
		if diff := cmp.Diff(want, ex); diff != "" {
			t.Errorf("ExceededError (-want +got):\n%s", diff)
		}
		c.Set(epoch.Add(time.Hour))
		run(t, l, []step{{acmeB, lookup(1), ""}})
	})
}

func TestTenantShared(t *testing.T) {
	forStores(t, func(t *testing.T, mk maker) {
		c := newClock()
		l := mk(t, testQuota(), c, Options{})
		steps := repeat(6, step{acmeA, lookup(1), ""})
		steps = append(steps, step{acmeA, lookup(1), "credential/burst"})
		steps = append(steps, repeat(4, step{acmeB, lookup(1), ""})...)
		steps = append(steps, step{acmeB, lookup(1), "tenant/burst"})
		// One tenant's spending is not another's.
		steps = append(steps, repeat(6, step{globex, lookup(1), ""})...)
		steps = append(steps, step{globex, lookup(1), "credential/burst"})
		run(t, l, steps)
	})
}

func TestClassesAreSeparate(t *testing.T) {
	forStores(t, func(t *testing.T, mk maker) {
		c := newClock()
		l := mk(t, testQuota(), c, Options{})
		steps := repeat(2, step{acmeA, search(2), ""})
		steps = append(steps, step{acmeA, search(1), "tenant/burst"})
		steps = append(steps, repeat(6, step{acmeA, lookup(1), ""})...)
		run(t, l, steps)
	})
}

func TestRefusedBurnsNothing(t *testing.T) {
	forStores(t, func(t *testing.T, mk maker) {
		c := newClock()
		l := mk(t, testQuota(), c, Options{})
		ctx := context.Background()
		run(t, l, repeat(3, step{acmeA, search(1), ""}))
		before, err := l.Status(ctx, acmeA)
		if err != nil {
			t.Fatal(err)
		}
		// The search part cannot pass (1 left, costs 2), so its lookup part must not be charged either.
		d, err := l.Charge(ctx, acmeA, map[Class]int64{Lookup: 1, Search: 2})
		var ex *ExceededError
		if !errors.As(err, &ex) || ex.Class != Search || ex.Remaining != 1 || ex.Cost != 2 {
			t.Fatalf("Charge = %v, want search exceeded with 1 left", err)
		}
		if d == nil || len(d.Windows) != 8 || d.Cost != 0 {
			t.Errorf("refused decision = %+v, want 8 windows and cost 0", d)
		}
		after, err := l.Status(ctx, acmeA)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("a refused request changed the windows (-before +after):\n%s", diff)
		}
		run(t, l, []step{{acmeA, search(1), ""}, {acmeA, search(1), "tenant/burst"}})
	})
}

func TestCostOverLimit(t *testing.T) {
	l := newLimiter(t, testQuota(), newClock(), Options{})
	_, err := l.Charge(context.Background(), acmeA, lookup(7))
	var ce *CostError
	if !errors.Is(err, ErrCostOverLimit) || !errors.As(err, &ce) {
		t.Fatalf("Charge = %v, want a CostError", err)
	}
	want := &CostError{Class: Lookup, Scope: ScopeCredential, Window: WindowBurst, Cost: 7, Limit: 6, Period: 10 * time.Second}
	if diff := cmp.Diff(want, ce); diff != "" {
		t.Errorf("CostError (-want +got):\n%s", diff)
	}
	var ex *ExceededError
	if errors.As(err, &ex) {
		t.Errorf("a CostError must not read as an ExceededError (it is a 400, not a 429)")
	}
	run(t, l, repeat(6, step{acmeA, lookup(1), ""})) // nothing was charged
}

func TestFreeRequest(t *testing.T) {
	forStores(t, func(t *testing.T, mk maker) {
		c := newClock()
		l := mk(t, testQuota(), c, Options{})
		ctx := context.Background()
		run(t, l, repeat(2, step{acmeA, lookup(1), ""}))
		for _, costs := range []map[Class]int64{nil, {}, {Search: 0, Lookup: 0}} {
			d, err := l.Charge(ctx, acmeA, costs)
			if err != nil {
				t.Fatal(err)
			}
			want := []WindowState{
				{Class: Lookup, Scope: ScopeTenant, Window: WindowBurst, Limit: 10, Remaining: 8, Period: 10 * time.Second, ResetAt: epoch.Add(10 * time.Second)},
				{Class: Lookup, Scope: ScopeTenant, Window: WindowSustained, Limit: 25, Remaining: 23, Period: time.Hour, ResetAt: epoch.Add(time.Hour)},
				{Class: Lookup, Scope: ScopeCredential, Window: WindowBurst, Limit: 6, Remaining: 4, Period: 10 * time.Second, ResetAt: epoch.Add(10 * time.Second)},
				{Class: Lookup, Scope: ScopeCredential, Window: WindowSustained, Limit: 1000, Remaining: 998, Period: time.Hour, ResetAt: epoch.Add(time.Hour)},
			}
			if diff := cmp.Diff(want, d.Windows); diff != "" {
				t.Errorf("free decision (-want +got):\n%s", diff)
			}
			if d.Cost != 0 || d.Remaining(Lookup) != 4 {
				t.Errorf("free decision cost %d remaining %d, want 0 and 4", d.Cost, d.Remaining(Lookup))
			}
		}
		run(t, l, repeat(4, step{acmeA, lookup(1), ""}))
	})
}

func TestSubjectScopes(t *testing.T) {
	c := newClock()
	l := newLimiter(t, testQuota(), c, Options{})
	noTenant := Subject{Credential: "jwt:svc"}
	d, err := l.Charge(context.Background(), noTenant, lookup(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range d.Windows {
		if w.Scope != ScopeCredential {
			t.Errorf("a subject without a tenant was charged on %s", w.Scope)
		}
	}
	if len(d.Windows) != 2 || d.Cost != 1 {
		t.Errorf("decision = %+v, want two credential windows, cost 1", d)
	}
	run(t, l, repeat(5, step{noTenant, lookup(1), ""}))
	run(t, l, []step{{noTenant, lookup(1), "credential/burst"}})
}

func TestBadCosts(t *testing.T) {
	l := newLimiter(t, testQuota(), newClock(), Options{})
	for _, costs := range []map[Class]int64{{"mutation": 1}, {Lookup: -1}} {
		if _, err := l.Charge(context.Background(), acmeA, costs); err == nil {
			t.Errorf("Charge(%v) succeeded", costs)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offset  time.Duration // from epoch, which starts a window
		resetAt time.Time
		retry   time.Duration
	}{
		{name: "window start", offset: 0, resetAt: epoch.Add(10 * time.Second), retry: 10 * time.Second},
		{name: "rounds up", offset: 300 * time.Millisecond, resetAt: epoch.Add(10 * time.Second), retry: 10 * time.Second},
		{name: "mid window", offset: 4*time.Second + 500*time.Millisecond, resetAt: epoch.Add(10 * time.Second), retry: 6 * time.Second},
		{name: "last moment is still a second", offset: 9*time.Second + 999*time.Millisecond, resetAt: epoch.Add(10 * time.Second), retry: time.Second},
		{name: "next window", offset: 10 * time.Second, resetAt: epoch.Add(20 * time.Second), retry: 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			c.Add(tc.offset)
			l := newLimiter(t, testQuota(), c, Options{})
			run(t, l, repeat(4, step{acmeA, search(1), ""}))
			_, err := l.Charge(context.Background(), acmeA, search(1))
			var ex *ExceededError
			if !errors.As(err, &ex) {
				t.Fatalf("Charge = %v", err)
			}
			got := []any{ex.ResetAt, ex.RetryAfter}
			if diff := cmp.Diff([]any{tc.resetAt, tc.retry}, got); diff != "" {
				t.Errorf("ResetAt, RetryAfter (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExceededMessage(t *testing.T) {
	l := newLimiter(t, testQuota(), newClock(), Options{})
	run(t, l, repeat(4, step{acmeA, search(1), ""}))
	_, err := l.Charge(context.Background(), acmeA, search(1))
	want := "search quota exceeded: this tenant's burst window allows 4 units per 10s, 0 left and this request costs 1; retry in 10s"
	if err == nil || err.Error() != want {
		t.Errorf("message = %v\nwant      %s", err, want)
	}
	for _, secret := range []string{"acme", "vg:q"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("message names %q: %v", secret, err)
		}
	}
}

func TestConcurrencyCap(t *testing.T) {
	l := newLimiter(t, testQuota(), newClock(), Options{})
	ctx := context.Background()
	r1, err1 := l.Acquire(ctx, acmeA, Report)
	r2, err2 := l.Acquire(ctx, acmeB, Report) // the cap is the tenant's, whatever the key
	if err1 != nil || err2 != nil {
		t.Fatalf("Acquire: %v, %v", err1, err2)
	}
	_, err := l.Acquire(ctx, acmeA, Report)
	var ex *ExceededError
	if !errors.As(err, &ex) {
		t.Fatalf("third Acquire = %v, want an ExceededError", err)
	}
	want := &ExceededError{Class: Report, Scope: ScopeTenant, Window: WindowConcurrency, Limit: 2, ResetAt: epoch.Add(time.Second), RetryAfter: time.Second}
	if diff := cmp.Diff(want, ex); diff != "" {
		t.Errorf("ExceededError (-want +got):\n%s", diff)
	}
	if rg, err := l.Acquire(ctx, globex, Report); err != nil {
		t.Errorf("another tenant: %v", err)
	} else {
		rg()
	}
	st, err := l.Status(ctx, acmeA)
	if err != nil {
		t.Fatal(err)
	}
	if st[2].Class != Report || st[2].Concurrency != 2 || st[2].InFlight != 2 {
		t.Errorf("Status report = %+v, want 2 of 2 in flight", st[2])
	}
	r1()
	r1() // a second release gives back nothing more
	r3, err := l.Acquire(ctx, acmeA, Report)
	if err != nil {
		t.Fatalf("Acquire after a release: %v", err)
	}
	if _, err := l.Acquire(ctx, acmeA, Report); err == nil {
		t.Errorf("a double release freed two slots")
	}
	r2()
	r3()
	if got := l.conc.inFlight(concKey(acmeA, Report)); got != 0 {
		t.Errorf("in flight after every release = %d", got)
	}
	// Export allows one; lookup has no cap.
	re, err := l.Acquire(ctx, acmeA, Export)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ctx, acmeB, Export); err == nil {
		t.Errorf("a second export was let through")
	}
	re()
	for range 50 {
		if _, err := l.Acquire(ctx, acmeA, Lookup); err != nil {
			t.Fatalf("lookup has no cap: %v", err)
		}
	}
	if got := l.Stats().Classes[Report].Limited; got != 2 {
		t.Errorf("report limited = %d, want 2", got)
	}
}

func TestAuthFailures(t *testing.T) {
	forStores(t, func(t *testing.T, mk maker) {
		c := newClock()
		l := mk(t, testQuota(), c, Options{})
		ctx := context.Background()
		blocked := func(ip string) bool {
			t.Helper()
			ex, err := l.AuthBlocked(ctx, ip)
			if err != nil {
				t.Fatal(err)
			}
			return ex != nil
		}
		for range 3 {
			if blocked("192.0.2.7") {
				t.Fatal("blocked before 3 failures")
			}
			l.AuthFailed(ctx, "192.0.2.7")
		}
		if !blocked("192.0.2.7") {
			t.Error("not blocked after 3 failures")
		}
		if blocked("192.0.2.8") {
			t.Error("another address is blocked")
		}
		ex, _ := l.AuthBlocked(ctx, "192.0.2.7")
		if ex == nil || ex.Window != WindowAuth || ex.Scope != ScopeClient || ex.RetryAfter != time.Minute || ex.Class != "" {
			t.Errorf("AuthBlocked = %+v", ex)
		}
		// An IPv6 client is counted by its /64.
		for i := range 3 {
			l.AuthFailed(ctx, []string{"2001:db8::1", "2001:db8::2", "2001:db8:0:0:ffff::9"}[i])
		}
		if !blocked("2001:db8::42") {
			t.Error("the /64 is not blocked")
		}
		if blocked("2001:db8:0:1::1") {
			t.Error("another /64 is blocked")
		}
		c.Add(time.Minute)
		if blocked("192.0.2.7") {
			t.Error("still blocked in the next window")
		}
		s := l.Stats()
		if s.AuthFailures != 6 || s.AuthBlocked != 3 {
			t.Errorf("stats = %+v, want 6 failures and 3 blocked answers", s)
		}
	})
}

func TestSetHeaders(t *testing.T) {
	at := epoch.Add(3 * time.Second)
	tenantBurst := WindowState{Class: Search, Scope: ScopeTenant, Window: WindowBurst, Limit: 60, Remaining: 42, Period: 10 * time.Second, ResetAt: epoch.Add(10 * time.Second)}
	credSustained := WindowState{Class: Search, Scope: ScopeCredential, Window: WindowSustained, Limit: 3000, Remaining: 0, Period: time.Hour, ResetAt: epoch.Add(time.Hour)}
	for _, tc := range []struct {
		name       string
		d          *Decision
		policy, rl string
	}{
		{name: "nil decision"},
		{name: "quotas off", d: &Decision{at: at}},
		{name: "one window", d: &Decision{at: at, Windows: []WindowState{tenantBurst}},
			policy: `"search-tenant-burst";q=60;w=10`, rl: `"search-tenant-burst";r=42;t=7`},
		{name: "two windows", d: &Decision{at: at, Windows: []WindowState{tenantBurst, credSustained}},
			policy: `"search-tenant-burst";q=60;w=10, "search-credential-sustained";q=3000;w=3600`,
			rl:     `"search-tenant-burst";r=42;t=7, "search-credential-sustained";r=0;t=3597`},
		{name: "reset is at least a second", d: &Decision{at: epoch.Add(10 * time.Second), Windows: []WindowState{tenantBurst}},
			policy: `"search-tenant-burst";q=60;w=10`, rl: `"search-tenant-burst";r=42;t=1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			tc.d.SetHeaders(h)
			got := []string{h.Get("RateLimit-Policy"), h.Get("RateLimit")}
			if diff := cmp.Diff([]string{tc.policy, tc.rl}, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}

	// A real decision's headers.
	l := newLimiter(t, testQuota(), newClock(), Options{})
	d, err := l.Charge(context.Background(), acmeA, search(1))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	d.SetHeaders(h)
	want := `"search-tenant-burst";r=3;t=10, "search-tenant-sustained";r=99;t=3600, "search-credential-burst";r=3;t=10, "search-credential-sustained";r=99;t=3600`
	if diff := cmp.Diff(want, h.Get("RateLimit")); diff != "" {
		t.Errorf("RateLimit (-want +got):\n%s", diff)
	}
}

func TestStatus(t *testing.T) {
	forStores(t, func(t *testing.T, mk maker) {
		l := mk(t, testQuota(), newClock(), Options{})
		ctx := context.Background()
		run(t, l, []step{{acmeA, search(3), ""}})
		st, err := l.Status(ctx, acmeA)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, cs := range st {
			for _, w := range cs.Windows {
				got = append(got, string(cs.Class)+" "+w.Scope+" "+w.Window+" "+itoa(w.Remaining)+"/"+itoa(w.Limit))
			}
		}
		want := []string{
			"lookup tenant burst 10/10", "lookup tenant sustained 25/25", "lookup credential burst 6/6", "lookup credential sustained 1000/1000",
			"search tenant burst 1/4", "search tenant sustained 97/100", "search credential burst 1/4", "search credential sustained 97/100",
			"report tenant burst 100/100", "report tenant sustained 1000/1000", "report credential burst 100/100", "report credential sustained 1000/1000",
			"export tenant burst 100/100", "export tenant sustained 1000/1000", "export credential burst 100/100", "export credential sustained 1000/1000",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Status (-want +got):\n%s", diff)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestDisabled(t *testing.T) {
	q := testQuota()
	q.Enabled = false
	l := newLimiter(t, q, newClock(), Options{})
	ctx := context.Background()
	for range 100 {
		d, err := l.Charge(ctx, acmeA, search(4))
		if err != nil || len(d.Windows) != 0 {
			t.Fatalf("Charge with quotas off = %+v, %v", d, err)
		}
	}
	h := http.Header{}
	d, _ := l.Charge(ctx, acmeA, search(1))
	d.SetHeaders(h)
	if len(h) != 0 {
		t.Errorf("headers with quotas off: %v", h)
	}
	if ex, err := l.AuthBlocked(ctx, "192.0.2.1"); ex != nil || err != nil {
		t.Errorf("AuthBlocked with quotas off = %v, %v", ex, err)
	}
	release, err := l.Acquire(ctx, acmeA, Export)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if diff := cmp.Diff([]string{"quotas off (quota.enabled: false)"}, l.Describe("acme")); diff != "" {
		t.Error(diff)
	}
}

func TestTenantPlans(t *testing.T) {
	q := testQuota()
	gold := config.DefaultPlan()
	gold["search"] = config.ClassLimits{Tenant: rates(8, 10*time.Second, 100, time.Hour), Credential: rates(8, 10*time.Second, 100, time.Hour)}
	q.Plans["gold"] = gold
	q.Tenants = map[string]string{"acme": "gold"}
	l := newLimiter(t, q, newClock(), Options{})
	run(t, l, repeat(8, step{acmeA, search(1), ""}))
	run(t, l, []step{{acmeA, search(1), "tenant/burst"}})
	run(t, l, repeat(4, step{globex, search(1), ""}))
	run(t, l, []step{{globex, search(1), "tenant/burst"}})

	got := l.Describe("acme")
	want := []string{
		"plan gold, store memory (this instance only)",
		"lookup (weight 1): tenant 300/10s + 60000/1h, credential 150/10s + 30000/1h",
		"search (weight 3): tenant 8/10s + 100/1h, credential 8/10s + 100/1h",
		"report (weight 5): tenant 30/10s + 1500/1h, credential 15/10s + 750/1h, at most 2 at once per tenant",
		"export (weight 10): tenant 100/1m + 2000/1h, credential 50/1m + 1000/1h, at most 1 at once per tenant",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Describe (-want +got):\n%s", diff)
	}
}

// TestDemoQuota checks the demo's promise: searches from one key hit a 429 within 100 requests,
// while 100 plain lookups from the same key all pass.
func TestDemoQuota(t *testing.T) {
	q := config.DemoQuota()
	c := newClock()
	l := newLimiter(t, q, c, Options{})
	ctx := context.Background()
	demo := Subject{Tenant: "acme", Credential: "demo-acme"}
	limited := 0
	for range 100 {
		c.Add(10 * time.Millisecond)
		_, err := l.Charge(ctx, demo, search(l.Weight(Search))) // the cheapest search costs its weight
		if refusal(t, err) != "" {
			limited++
		}
	}
	if limited == 0 {
		t.Error("100 searches from one demo key were never refused")
	}
	for i := range 100 {
		c.Add(10 * time.Millisecond)
		if _, err := l.Charge(ctx, demo, lookup(1)); err != nil {
			t.Fatalf("lookup %d refused: %v", i, err)
		}
	}
	if got := l.Stats().Classes[Search]; got.Limited != uint64(limited) || got.Allowed != uint64(100-limited) {
		t.Errorf("search stats = %+v, want %d limited", got, limited)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*config.Quota)
		want   string
	}{
		{"unknown default plan", func(q *config.Quota) { q.DefaultPlan = "gold" }, `default plan "gold"`},
		{"unknown tenant plan", func(q *config.Quota) { q.Tenants = map[string]string{"acme": "gold"} }, `plan "gold"`},
		{"missing class", func(q *config.Quota) { delete(q.Plans["standard"], "export") }, "no limits for class export"},
		{"bad redis url", func(q *config.Quota) { q.RedisURL = "redis://:pw@host:port:x/0" }, "not a valid Redis URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := testQuota()
			tc.mutate(&q)
			_, err := New(q, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), ":pw@") {
				t.Errorf("New = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestConcurrentCharges(t *testing.T) {
	c := newClock()
	l := newLimiter(t, testQuota(), c, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := l.Charge(context.Background(), acmeA, lookup(1)); err == nil {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	// Every window is incremented before it is checked, so none admits more than its limit. A
	// charge being taken back may refuse a racing request, but of requests racing for the last
	// unit one always gets it (the first increment to reach the limit fits), so all 6 are used.
	if allowed != 6 {
		t.Errorf("allowed %d of 160 concurrent lookups, want exactly 6 (the credential's burst)", allowed)
	}
}
