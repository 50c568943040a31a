package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/demo"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// requireTool skips the test with reason when a tool is missing, or fails it under CI.
func requireTool(t *testing.T, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this fails; .ci/run installs it)", reason)
	}
	t.Skip(reason)
}

// jsTools returns node and the .ci/js folder of the repository, whose node_modules `npm ci
// --prefix .ci/js` installs.
func jsTools(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	requireTool(t, err == nil, "node is not on PATH")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(root, ".ci", "js")
	_, err = os.Stat(filepath.Join(dir, "node_modules"))
	requireTool(t, err == nil, "no .ci/js/node_modules: run npm ci --prefix .ci/js")
	return node, dir
}

// runNode runs a script of .ci/js with args, bounded in time, and returns its stdout.
func runNode(t *testing.T, node, dir string, timeout time.Duration, script string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Logf("%s stderr:\n%s", script, stderr.String())
	}
	return out, err
}

// TestGraphiQLBrowser opens the demo's GraphiQL page in headless Chromium: the Docs pane lists
// the Query fields, the prefilled demo key runs the default query without anything typed, the
// key picker switches keys, and headers survive a reload (.ci/js/graphiql.mjs).
func TestGraphiQLBrowser(t *testing.T) {
	node, dir := jsTools(t)
	_, err := os.Stat(chromiumPath)
	requireTool(t, err == nil, chromiumPath+" is missing: apt-get install chromium")
	base := startDemo(t)
	out, err := runNode(t, node, dir, 3*time.Minute, "graphiql.mjs", base, demo.KeyAcme, demo.KeyGlobex)
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("graphiql.mjs: %v\n%s", err, out)
	}
}

// auditResult is one line of .ci/js/audit.mjs.
type auditResult struct {
	ID, Name, Status, Reason, Body string
	HTTPStatus                     int
}

// TestGraphQLOverHTTPAudit runs graphql-http's server audits (the GraphQL-over-HTTP spec's
// MUSTs and SHOULDs) against the demo server; a warning fails too, as with the audit's --strict.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, dir := jsTools(t)
	base := startDemo(t)
	out, err := runNode(t, node, dir, 2*time.Minute, "audit.mjs", base+"graphql", demo.KeyAcme)
	if err != nil {
		t.Fatalf("audit.mjs: %v\n%s", err, out)
	}
	var results []auditResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r auditResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		results = append(results, r)
	}
	passed := 0
	for _, r := range results {
		if r.Status == "ok" {
			passed++
			continue
		}
		t.Errorf("%s %s: %s: %s (HTTP %d) %s", r.Status, r.ID, r.Name, r.Reason, r.HTTPStatus, r.Body)
	}
	if len(results) == 0 {
		t.Fatal("the audit ran no audit")
	}
	t.Logf("%d/%d GraphQL-over-HTTP audits pass", passed, len(results))
}
