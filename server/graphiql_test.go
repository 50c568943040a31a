package server_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/server"
)

func TestGraphiQL(t *testing.T) {
	h := server.GraphiQL("/graphql", server.GraphiQLOptions{})
	type result struct {
		Status       int
		ContentType  string
		Encoding     string
		CacheControl string
	}
	tests := []struct {
		name   string
		method string
		target string
		accept string // Accept-Encoding
		want   result
	}{
		{"page", "GET", "/", "", result{200, "text/html; charset=utf-8", "", "no-cache"}},
		{"page head", "HEAD", "/", "", result{200, "text/html; charset=utf-8", "", "no-cache"}},
		{"graphiql js", "GET", "/graphiql/graphiql.min.js", "", result{200, "text/javascript; charset=utf-8", "", "public, no-cache"}},
		{"graphiql js gzip", "GET", "/graphiql/graphiql.min.js", "br;q=1.0, gzip;q=0.8", result{200, "text/javascript; charset=utf-8", "gzip", "public, no-cache"}},
		{"gzip refused", "GET", "/graphiql/graphiql.min.js", "gzip;q=0, br", result{200, "text/javascript; charset=utf-8", "", "public, no-cache"}},
		{"gzip plain", "GET", "/graphiql/init.js", "GZIP", result{200, "text/javascript; charset=utf-8", "gzip", "public, no-cache"}},
		{"graphiql css", "GET", "/graphiql/graphiql.min.css", "", result{200, "text/css; charset=utf-8", "", "public, no-cache"}},
		{"react", "GET", "/graphiql/react.production.min.js", "", result{200, "text/javascript; charset=utf-8", "", "public, no-cache"}},
		{"react-dom", "GET", "/graphiql/react-dom.production.min.js", "", result{200, "text/javascript; charset=utf-8", "", "public, no-cache"}},
		{"init", "GET", "/graphiql/init.js", "", result{200, "text/javascript; charset=utf-8", "", "public, no-cache"}},
		{"licences", "GET", "/graphiql/LICENSES.txt", "", result{200, "text/plain; charset=utf-8", "", "public, no-cache"}},
		{"template not an asset", "GET", "/graphiql/index.html", "", result{404, "text/plain; charset=utf-8", "", ""}},
		{"unknown asset", "GET", "/graphiql/evil.js", "", result{404, "text/plain; charset=utf-8", "", ""}},
		{"traversal", "GET", "/graphiql/../serve.go", "", result{404, "text/plain; charset=utf-8", "", ""}},
		{"unknown page", "GET", "/admin", "", result{404, "text/plain; charset=utf-8", "", ""}},
		{"post refused", "POST", "/", "", result{405, "text/plain; charset=utf-8", "", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			if tc.accept != "" {
				r.Header.Set("Accept-Encoding", tc.accept)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := result{w.Code, w.Header().Get("Content-Type"), w.Header().Get("Content-Encoding"), w.Header().Get("Cache-Control")}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			csp := w.Header().Get("Content-Security-Policy")
			for _, directive := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self';", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, directive) {
					t.Errorf("CSP %q lacks %q", csp, directive)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
				t.Errorf("CSP %q allows inline code, eval or another origin", csp)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if tc.want.Encoding == "gzip" {
				zr, err := gzip.NewReader(w.Body)
				if err != nil {
					t.Fatalf("gzip body: %v", err)
				}
				if b, _ := io.ReadAll(zr); !strings.Contains(string(b), "GraphiQL") {
					t.Errorf("gunzipped body is not a GraphiQL file")
				}
			}
		})
	}
}

// TestGraphiQLPage follows every asset the page links to, and checks the page runs no inline code.
func TestGraphiQLPage(t *testing.T) {
	h := server.GraphiQL(`/graphql"><script>alert(1)</script>`, server.GraphiQLOptions{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	page := w.Body.String()

	if strings.Contains(page, "<script>alert") {
		t.Errorf("endpoint not escaped in page:\n%s", page)
	}
	if regexp.MustCompile(`<script[^>]*>[^<]`).MatchString(page) || strings.Contains(page, "<style") || regexp.MustCompile(`\son[a-z]+=`).MatchString(page) {
		t.Errorf("page has inline script, style or event handler:\n%s", page)
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("page refers to another origin:\n%s", page)
	}

	links := regexp.MustCompile(`(?:src|href)="(graphiql/[^"?]+)\?v=([0-9a-f]+)"`).FindAllStringSubmatch(page, -1)
	var names []string
	for _, l := range links {
		names = append(names, l[1])
		r := httptest.NewRequest(http.MethodGet, "/"+l[1]+"?v="+l[2], nil)
		aw := httptest.NewRecorder()
		h.ServeHTTP(aw, r)
		if aw.Code != http.StatusOK || aw.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: status %d, Cache-Control %q; want 200 and immutable", l[1], aw.Code, aw.Header().Get("Cache-Control"))
		}
		etag := aw.Header().Get("ETag")
		r = httptest.NewRequest(http.MethodGet, "/"+l[1], nil)
		r.Header.Set("If-None-Match", etag)
		aw = httptest.NewRecorder()
		h.ServeHTTP(aw, r)
		if aw.Code != http.StatusNotModified {
			t.Errorf("%s with If-None-Match %s: status %d, want 304", l[1], etag, aw.Code)
		}
	}
	want := []string{
		"graphiql/graphiql.min.css", "graphiql/page.css", "graphiql/react.production.min.js",
		"graphiql/react-dom.production.min.js", "graphiql/graphiql.min.js", "graphiql/init.js",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("assets linked by the page (-want +got):\n%s", diff)
	}
}

func TestGraphiQLEndpoint(t *testing.T) {
	tests := []struct {
		name        string
		endpoint    string
		wantConnect string
		wantAttr    string
	}{
		{"path", "/graphql", "connect-src 'self';", `data-endpoint="/graphql"`},
		{"absolute", "https://api.example.com/graphql", "connect-src 'self' https://api.example.com;", `data-endpoint="https://api.example.com/graphql"`},
		{"not http", "javascript:alert(1)", "connect-src 'self';", `data-endpoint="javascript:alert(1)"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			server.GraphiQL(tc.endpoint, server.GraphiQLOptions{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, tc.wantConnect) {
				t.Errorf("CSP %q lacks %q", csp, tc.wantConnect)
			}
			if !strings.Contains(w.Body.String(), tc.wantAttr) {
				t.Errorf("page lacks %s", tc.wantAttr)
			}
		})
	}
}

// TestGraphiQLDemo: demo keys and a default query reach the page only when given, as data
// attributes (the CSP allows no inline script), escaped like any attribute.
func TestGraphiQLDemo(t *testing.T) {
	demo := server.GraphiQLOptions{
		DemoKeys:     []server.DemoKey{{Label: `acme "pii"`, Key: "vgk_a"}, {Label: "globex", Key: "vgk_g"}},
		DefaultQuery: `{ x(s: "<script>") }`,
	}
	tests := []struct {
		name     string
		o        server.GraphiQLOptions
		want     []string
		wantNone []string
	}{
		{"demo", demo, []string{
			`data-demo-keys="[{&#34;label&#34;:&#34;acme \&#34;pii\&#34;&#34;,&#34;key&#34;:&#34;vgk_a&#34;},{&#34;label&#34;:&#34;globex&#34;,&#34;key&#34;:&#34;vgk_g&#34;}]"`,
			`data-default-query="{ x(s: &#34;&lt;script&gt;&#34;) }"`,
		}, []string{"<script>"}},
		{"not the demo", server.GraphiQLOptions{}, nil, []string{"data-demo-keys", "data-default-query"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			server.GraphiQL("/graphql", tc.o).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			page := w.Body.String()
			for _, s := range tc.want {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %s:\n%s", s, page)
				}
			}
			for _, s := range tc.wantNone {
				if strings.Contains(page, s) {
					t.Errorf("page has %s:\n%s", s, page)
				}
			}
		})
	}
}
