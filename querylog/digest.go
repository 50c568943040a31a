package querylog

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Ways a digest groups statements.
const (
	ByFingerprint = "fingerprint"
	ByView        = "view"
	ByTenant      = "tenant"
	ByClass       = "class"
	ByReplica     = "replica"
)

// GroupBys lists the groupings a digest knows.
var GroupBys = []string{ByFingerprint, ByView, ByTenant, ByClass, ByReplica}

// DigestOptions selects and groups the statements a digest counts.
type DigestOptions struct {
	GroupBy string        // one of GroupBys; "" means ByFingerprint
	Since   time.Time     // statements before it are left out; zero: no bound
	Until   time.Time     // statements at or after it are left out; zero: no bound
	MinTime time.Duration // statements faster than this are left out
}

// The latency sketch: 1 µs to 1 h with 2 significant digits, so a quantile is within 1% of the
// true value, in about 26 KB per group whatever the number of statements.
const (
	sketchMin    = 1
	sketchMax    = int64(time.Hour / time.Microsecond)
	sketchDigits = 2
	// SketchError is the relative error of a group's P95.
	SketchError = 0.01
	maxLabels   = 16 // distinct views, classes or replicas counted per group; more go to "other"
)

// Digest aggregates statements into groups, in constant memory per group.
type Digest struct {
	o       DigestOptions
	groups  map[string]*group
	ids     queryIDs
	Files   []string
	Read    int // statements read
	Counted int // statements within the filters
	Skipped int // malformed lines or records, skipped
	First   time.Time
	Last    time.Time
	Total   time.Duration
}

type group struct {
	key, queryID, fingerprint string
	calls, errors             int64
	total, max                time.Duration
	rows, maxRows             int64
	hist                      *hdrhistogram.Histogram
	views, classes, replicas  map[string]int64
	sample                    string        // the SQL of the slowest statement
	sampleTime                time.Duration // its duration
	plan                      *Plan
}

// Plan is the latest plan seen for a group.
type Plan struct {
	Time    time.Time       `json:"time"`
	Replica string          `json:"replica,omitempty"`
	Plan    json.RawMessage `json:"plan"`
}

// NewDigest returns an empty digest; it returns an error for an unknown GroupBy.
func NewDigest(o DigestOptions) (*Digest, error) {
	if o.GroupBy == "" {
		o.GroupBy = ByFingerprint
	}
	if !slices.Contains(GroupBys, o.GroupBy) {
		return nil, fmt.Errorf("group by %q: want one of %v", o.GroupBy, GroupBys)
	}
	return &Digest{o: o, groups: map[string]*group{}}, nil
}

// ReadFiles reads the files in rotation order (see RotationOrder), each plain or gzip-compressed.
func (d *Digest) ReadFiles(paths []string) error {
	for _, p := range RotationOrder(paths) {
		if err := d.readFile(p); err != nil {
			return err
		}
	}
	return nil
}

func (d *Digest) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	d.Files = append(d.Files, path)
	if err := d.ReadLog(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ReadLog adds the statements of one log (plain or gzip, JSON or slow log) read from r.
func (d *Digest) ReadLog(r io.Reader) error {
	return readLog(r, d.Add, func() { d.Skipped++ })
}

// Add counts one statement, unless the filters leave it out.
func (d *Digest) Add(r *Record) {
	d.Read++
	if !d.o.Since.IsZero() && r.Time.Before(d.o.Since) || !d.o.Until.IsZero() && !r.Time.Before(d.o.Until) || r.Duration < d.o.MinTime {
		return
	}
	d.Counted++
	d.Total += r.Duration
	if d.First.IsZero() || r.Time.Before(d.First) {
		d.First = r.Time
	}
	if r.Time.After(d.Last) {
		d.Last = r.Time
	}
	d.group(r).add(r)
}

func (d *Digest) group(r *Record) *group {
	var key, id string
	switch d.o.GroupBy {
	case ByFingerprint:
		id = d.ids.get(r.SQL)
		key = id
	case ByView:
		key = r.View
	case ByTenant:
		key = r.Tenant
	case ByClass:
		key = r.Class
	case ByReplica:
		key = r.Replica
	}
	g := d.groups[key]
	if g == nil {
		g = &group{key: key, queryID: id, hist: hdrhistogram.New(sketchMin, sketchMax, sketchDigits),
			views: map[string]int64{}, classes: map[string]int64{}, replicas: map[string]int64{}}
		if id != "" {
			g.fingerprint = Fingerprint(r.SQL)
		}
		d.groups[key] = g
	}
	return g
}

func (g *group) add(r *Record) {
	g.calls++
	g.total += r.Duration
	g.rows += r.Rows
	g.maxRows = max(g.maxRows, r.Rows)
	if r.Error != "" {
		g.errors++
	}
	if r.Duration >= g.max {
		g.max = r.Duration
	}
	if g.sample == "" || r.Duration > g.sampleTime {
		g.sample, g.sampleTime = r.SQL, r.Duration
	}
	us := min(max(r.Duration.Microseconds(), sketchMin), sketchMax)
	_ = g.hist.RecordValue(us) // within range by construction
	count(g.views, r.View)
	count(g.classes, r.Class)
	replica := r.Replica
	if r.Source != "" && replica != "" && replica != r.Source {
		replica = r.Source + "/" + replica
	}
	count(g.replicas, replica)
	if r.Plan != nil && (g.plan == nil || !r.Time.Before(g.plan.Time)) {
		g.plan = &Plan{Time: r.Time, Replica: r.Replica, Plan: append(json.RawMessage(nil), r.Plan...)}
	}
}

// count adds one to m[k], or to m["other"] once m holds maxLabels keys.
func count(m map[string]int64, k string) {
	if k == "" {
		return
	}
	if _, ok := m[k]; !ok && len(m) >= maxLabels {
		k = "other"
	}
	m[k]++
}

// Group is one line of a digest's profile.
type Group struct {
	Rank        int              `json:"rank"`
	Key         string           `json:"key"`
	QueryID     string           `json:"queryId,omitempty"`
	Fingerprint string           `json:"fingerprint,omitempty"`
	Calls       int64            `json:"calls"`
	Errors      int64            `json:"errors"`
	Total       float64          `json:"totalSeconds"`
	Share       float64          `json:"share"` // of the digest's total time, 0..1
	Mean        float64          `json:"meanSeconds"`
	P95         float64          `json:"p95Seconds"`
	Max         float64          `json:"maxSeconds"`
	Rows        int64            `json:"rows"`
	MaxRows     int64            `json:"maxRows"`
	Views       map[string]int64 `json:"views"`
	Classes     map[string]int64 `json:"classes"`
	Replicas    map[string]int64 `json:"replicas"`
	Sample      string           `json:"sample"`
	Plan        *Plan            `json:"plan,omitempty"`
}

// Report is a digest's profile: groups ranked by total time, the top ones.
type Report struct {
	Files     []string  `json:"files"`
	GroupBy   string    `json:"groupBy"`
	Read      int       `json:"statementsRead"`
	Counted   int       `json:"statements"`
	Skipped   int       `json:"malformedSkipped"`
	First     time.Time `json:"first,omitzero"`
	Last      time.Time `json:"last,omitzero"`
	Total     float64   `json:"totalSeconds"`
	NumGroups int       `json:"groupCount"`
	Groups    []Group   `json:"groups"`
}

// Report ranks the groups by total time (then calls, then key) and keeps the top ones; top <= 0 keeps all.
func (d *Digest) Report(top int) Report {
	gs := make([]*group, 0, len(d.groups))
	for _, g := range d.groups {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b *group) int {
		return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(b.calls, a.calls), cmp.Compare(a.key, b.key))
	})
	if top > 0 && len(gs) > top {
		gs = gs[:top]
	}
	rep := Report{Files: d.Files, GroupBy: d.o.GroupBy, Read: d.Read, Counted: d.Counted, Skipped: d.Skipped,
		First: d.First, Last: d.Last, Total: d.Total.Seconds(), NumGroups: len(d.groups), Groups: []Group{}}
	for i, g := range gs {
		rep.Groups = append(rep.Groups, g.report(i+1, d.Total))
	}
	return rep
}

func (g *group) report(rank int, total time.Duration) Group {
	out := Group{Rank: rank, Key: g.key, QueryID: g.queryID, Fingerprint: g.fingerprint, Calls: g.calls,
		Errors: g.errors, Total: g.total.Seconds(), Mean: (g.total / time.Duration(g.calls)).Seconds(),
		P95: float64(g.hist.ValueAtQuantile(95)) / 1e6, Max: g.max.Seconds(), Rows: g.rows, MaxRows: g.maxRows,
		Views: g.views, Classes: g.classes, Replicas: g.replicas, Sample: g.sample, Plan: g.plan}
	if total > 0 {
		out.Share = float64(g.total) / float64(total)
	}
	out.P95 = min(out.P95, out.Max) // the sketch rounds up within its error
	return out
}
