package querylog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ptQueryDigest returns the path of pt-query-digest (Debian's percona-toolkit, which .ci/run
// installs); off CI the test skips without it, under CI=true it fails.
func ptQueryDigest(t *testing.T) string {
	t.Helper()
	pt, err := exec.LookPath("pt-query-digest")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pt-query-digest is not installed (apt-get install percona-toolkit); CI must run this test")
		}
		t.Skip("pt-query-digest not installed (apt-get install percona-toolkit)")
	}
	return pt
}

// ptClass is one class of pt-query-digest --output json.
type ptClass struct {
	Checksum    string `json:"checksum"`
	Fingerprint string `json:"fingerprint"`
	QueryCount  int64  `json:"query_count"`
}

// runPt runs pt-query-digest on the slow log at path and returns its classes by query ID.
func runPt(t *testing.T, pt, path string, args ...string) map[string]ptClass {
	t.Helper()
	cmd := exec.Command(pt, append([]string{"--output", "json", "--limit", "100%", "--no-version-check"}, append(args, path)...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pt-query-digest: %v\n%s", err, stderr.String())
	}
	var report struct {
		Classes []ptClass `json:"classes"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &report); err != nil {
		t.Fatalf("decode pt-query-digest's JSON: %v\n%s", err, out)
	}
	got := map[string]ptClass{}
	for _, c := range report.Classes {
		got["0x"+c.Checksum] = c
	}
	return got
}

// TestPtQueryDigestAgrees writes a slow log of many statement shapes (each a varying number of
// times, some with plans, the plans with semicolons), runs the real pt-query-digest on it, and
// requires the same query IDs, fingerprints and call counts from Fingerprint, QueryID and Digest.
func TestPtQueryDigestAgrees(t *testing.T) {
	pt := ptQueryDigest(t)
	var slow bytes.Buffer
	l := New(Options{JSON: &bytes.Buffer{}, Slow: &slow, Threshold: 0})
	want := map[string]ptClass{}
	for i, tc := range fingerprintCases {
		for n := range i + 1 {
			e := entry(time.Duration(n+1)*time.Millisecond, "")
			e.SQL = tc.sql
			e.Time = at.Add(time.Duration(i*100+n) * time.Second)
			var plan json.RawMessage
			if n == 0 {
				plan = json.RawMessage(fmt.Sprintf(`{"query_block": {"select_id": %d, "note": "a; b"}}`, i))
			}
			id := QueryID(tc.sql)
			l.write(&e, id, true, plan, "")
			c := want[id]
			c.Checksum, c.Fingerprint, c.QueryCount = strings.TrimPrefix(id, "0x"), Fingerprint(tc.sql), c.QueryCount+1
			want[id] = c
		}
	}
	path := filepath.Join(t.TempDir(), "slow.log")
	if err := os.WriteFile(path, slow.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, runPt(t, pt, path)); diff != "" {
		t.Errorf("pt-query-digest's classes (-ours +pt-query-digest):\n%s", diff)
	}
	d, _ := NewDigest(DigestOptions{})
	if err := d.ReadFiles([]string{path}); err != nil {
		t.Fatal(err)
	}
	got := map[string]ptClass{}
	for _, g := range d.Report(0).Groups {
		got[g.QueryID] = ptClass{Checksum: strings.TrimPrefix(g.QueryID, "0x"), Fingerprint: g.Fingerprint, QueryCount: g.Calls}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("digest (-written +digest):\n%s", diff)
	}
	if d.Skipped != 0 {
		t.Errorf("digest skipped %d records of a clean log", d.Skipped)
	}
}
