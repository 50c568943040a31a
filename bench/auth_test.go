package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/auth/authtest"
	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
)

// BenchmarkAuth runs the list query through one handler whose authenticator chain accepts every
// credential kind, so the variants differ only in the request's header: none (allow_anonymous),
// the static demo key, a keys-file key, and RS256/ES256 bearer JWTs verified against a cached JWKS.
//
//	go test ./bench -run '^$' -bench Auth -benchmem -count 5
func BenchmarkAuth(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		dsn := dbtest.Postgres(b)
		analyze(b, dsn)
		authBenchmarks(b, "postgres", dsn)
	})
	b.Run("sqlite", func(b *testing.B) {
		authBenchmarks(b, "sqlite", dbtest.SQLite(b))
	})
}

type authVariant struct{ name, header, value string }

// authChain returns a chain that accepts every credential kind, and one request header per kind.
func authChain(b *testing.B) (*auth.Chain, []authVariant) {
	b.Helper()
	roles := []string{"reporting", "analyst", "pii"}
	static, err := auth.NewKeys([]auth.Key{{ID: "demo-acme", Tenant: demo.TenantAcme, Roles: roles, Secret: demo.KeyAcme}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	fileKey, err := auth.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "keys.yaml")
	now := time.Now()
	err = auth.WriteKeysFile(path, &auth.KeysFile{Keys: []auth.StoredKey{{ID: "k-bench", Tenant: demo.TenantAcme, Roles: roles,
		Owner: "bench", Created: now, Expires: now.Add(24 * time.Hour), SHA256: auth.HashSecret(fileKey)}}})
	if err != nil {
		b.Fatal(err)
	}
	store, err := auth.NewKeyStore(auth.KeyStoreOptions{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	iss := authtest.NewIssuer(b)
	jwt, err := auth.NewJWT(context.Background(), auth.JWTOptions{Issuer: iss.URL, Audience: []string{authtest.Audience}, TenantClaim: "org.tenant"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(jwt.Close)
	chain := &auth.Chain{Static: static, Store: store, JWT: jwt,
		Anonymous: &auth.Principal{Tenant: demo.TenantAcme, CredentialID: "anonymous", Roles: roles}}
	claims := iss.Claims(now, "bench", demo.TenantAcme, roles...)
	return chain, []authVariant{
		{"none", "", ""},
		{"apikey-static", "X-API-Key", demo.KeyAcme},
		{"apikey-file", "X-API-Key", fileKey},
		{"jwt-rs256", "Authorization", "Bearer " + iss.Sign(b, "rsa-1", claims, nil)},
		{"jwt-es256", "Authorization", "Bearer " + iss.Sign(b, "ec-1", claims, nil)},
	}
}

func authBenchmarks(b *testing.B, driver, dsn string) {
	chain, variants := authChain(b)
	h := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.ViewgateAuth(ctx, driver, dsn, bench.DefaultConns, chain)
	})
	var first []byte
	for _, v := range variants { // every variant must serve the same bytes
		body := serveWith(b, h, v.header, v.value)
		if first == nil {
			first = body
		} else if err := bench.Same(first, body); err != nil {
			b.Fatalf("%s: %v", v.name, err)
		}
	}
	for _, v := range variants {
		b.Run("auth="+v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				serveWith(b, h, v.header, v.value)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
	// Interleaved: each iteration serves every variant once, so load from elsewhere on the machine
	// hits all of them alike; the metrics are each variant's mean time per request.
	b.Run("interleaved", func(b *testing.B) {
		spent := make([]time.Duration, len(variants))
		for b.Loop() {
			for i, v := range variants {
				start := time.Now()
				serveWith(b, h, v.header, v.value)
				spent[i] += time.Since(start)
			}
		}
		for i, v := range variants {
			b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), "ns/"+v.name)
		}
	})
}

func serveWith(tb testing.TB, h http.Handler, header, value string) []byte {
	req := newRequest(tb)
	req.Header.Del("X-API-Key")
	if header != "" {
		req.Header.Set(header, value)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// BenchmarkAuthenticate measures authentication alone (the chain on a request), without the
// query: with the list query's time it gives authentication's share.
//
//	go test ./bench -run '^$' -bench Authenticate -benchmem
func BenchmarkAuthenticate(b *testing.B) {
	chain, variants := authChain(b)
	for _, v := range variants {
		req := httptest.NewRequest("POST", "/graphql", nil)
		if v.header != "" {
			req.Header.Set(v.header, v.value)
		}
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := chain.Authenticate(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The first verification of a token, before it is cached: what a client pays once per token.
	b.Run("jwt-rs256-uncached", func(b *testing.B) {
		iss := authtest.NewIssuer(b)
		jwt, err := auth.NewJWT(context.Background(), auth.JWTOptions{Issuer: iss.URL, Audience: []string{authtest.Audience}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { jwt.Close() })
		toks := make([]string, 0, 1000)
		for i := range cap(toks) {
			c := iss.Claims(time.Now(), "bench", demo.TenantAcme)
			c["jti"] = i
			toks = append(toks, iss.Sign(b, "rsa-1", c, nil))
		}
		b.ResetTimer()
		i := 0
		for b.Loop() {
			if _, err := jwt.Verify(context.Background(), toks[i%len(toks)]); err != nil {
				b.Fatal(err)
			}
			i++
			if i%len(toks) == 0 {
				b.StopTimer()
				jwt.Close()
				if jwt, err = auth.NewJWT(context.Background(), auth.JWTOptions{Issuer: iss.URL, Audience: []string{authtest.Audience}}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		}
	})
}
