package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed graphiql/index.html graphiql/*.js graphiql/*.css graphiql/LICENSES.txt
var graphiqlFiles embed.FS

// assetPrefix is where GraphiQL's files are served, relative to the page.
const assetPrefix = "/graphiql/"

// assetType returns the content type of a file served under assetPrefix, and false for a file
// that is not served.
func assetType(name string) (string, bool) {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".css":
		return "text/css; charset=utf-8", true
	case ".txt":
		return "text/plain; charset=utf-8", true
	}
	return "", false
}

// graphiql serves the page and its assets; all of it is built once, in GraphiQL.
type graphiql struct {
	page   []byte
	csp    string
	assets map[string]*asset
}

// asset is one embedded file, with its gzip form made on first demand.
type asset struct {
	body        []byte
	contentType string
	hash        string // a prefix of the content's sha256, for the ?v= cache buster and the ETag

	gzipOnce sync.Once
	gzipped  []byte
}

// GraphiQLOptions configures the GraphiQL page.
type GraphiQLOptions struct {
	// DemoKeys are offered on the page, the first prefilled in the headers, and headers then
	// persist in the browser's storage across reloads. Only for the built-in demo, whose keys
	// are public: without DemoKeys no header is ever written to the browser's storage.
	DemoKeys []DemoKey
	// DefaultQuery is the query a first visit shows ("": GraphiQL's welcome text).
	DefaultQuery string
}

// DemoKey is an API key the GraphiQL page offers, under a label saying whose it is.
type DemoKey struct {
	Label string `json:"label"`
	Key   string `json:"key"`
}

// GraphiQL serves a GraphiQL page at "/" that queries endpoint, with its embedded assets under
// "/graphiql/", under a Content-Security-Policy that allows no inline script and no origin but
// the page's and endpoint's; any other path is 404, any method but GET and HEAD 405.
func GraphiQL(endpoint string, o GraphiQLOptions) http.Handler {
	g := &graphiql{assets: loadAssets(), csp: graphiqlCSP(endpoint)}
	tmpl := template.Must(template.New("index.html").Funcs(template.FuncMap{
		"asset": func(name string) string {
			return strings.TrimPrefix(assetPrefix, "/") + name + "?v=" + g.assets[name].hash
		},
	}).ParseFS(graphiqlFiles, "graphiql/index.html"))
	var demoKeys []byte
	if len(o.DemoKeys) > 0 {
		demoKeys, _ = json.Marshal(o.DemoKeys) // strings only
	}
	var buf bytes.Buffer
	data := struct{ Endpoint, DemoKeys, DefaultQuery string }{endpoint, string(demoKeys), o.DefaultQuery}
	if err := tmpl.Execute(&buf, data); err != nil {
		// Only a broken embedded template fails, and the tests render it.
		panic("server: render GraphiQL page: " + err.Error())
	}
	g.page = buf.Bytes()
	return g
}

// loadAssets reads every servable embedded file.
func loadAssets() map[string]*asset {
	entries, _ := graphiqlFiles.ReadDir("graphiql") // an embed.FS directory that exists
	assets := make(map[string]*asset, len(entries))
	for _, e := range entries {
		ct, ok := assetType(e.Name())
		if !ok {
			continue
		}
		body, _ := graphiqlFiles.ReadFile("graphiql/" + e.Name())
		sum := sha256.Sum256(body)
		assets[e.Name()] = &asset{body: body, contentType: ct, hash: hex.EncodeToString(sum[:6])}
	}
	return assets
}

// scrollLockStyleHash allows the one <style> element GraphiQL 3 injects: react-remove-scroll's
// lock while a dialog is open. Its text depends only on the body's margins, padding and scrollbar
// width, which page.css pins to zero; if a GraphiQL upgrade changes it, the browser reports the
// new hash in a CSP error when a dialog opens, and the dialog works regardless.
const scrollLockStyleHash = "'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='"

// graphiqlCSP allows scripts, styles and fonts from the page's own origin only, and requests to
// the page's origin plus endpoint's, when endpoint is an absolute URL.
func graphiqlCSP(endpoint string) string {
	connect := "'self'"
	if u, err := url.Parse(endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' " + scrollLockStyleHash,
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src " + connect,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

// ServeHTTP serves the page at "/" and the assets under "/graphiql/".
func (g *graphiql) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", g.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case r.URL.Path == "/" || r.URL.Path == "":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(g.page))
	case strings.HasPrefix(r.URL.Path, assetPrefix):
		a := g.assets[strings.TrimPrefix(r.URL.Path, assetPrefix)]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r)
	default:
		http.NotFound(w, r)
	}
}

// serve writes the asset, gzipped when the client accepts it; a URL carrying the current
// content hash may be cached for a year, any other is revalidated through the ETag.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, no-cache")
	}
	body, etag := a.body, `"`+a.hash+`"`
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body, etag = a.gzip(), `"`+a.hash+`-gz"`
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// gzip returns the asset compressed, compressing it on the first call.
func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(a.body) // a bytes.Buffer does not fail
		_ = zw.Close()
		a.gzipped = buf.Bytes()
	})
	return a.gzipped
}

// acceptsGzip reports whether an Accept-Encoding header value admits gzip.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, weighted := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !weighted {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
