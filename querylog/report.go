package querylog

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// textWidth is the width the text report fits in.
const textWidth = 100

// WriteJSON writes the report as one indented JSON document, for scripts.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a terminal of textWidth columns: a summary, the profile (two
// lines per group), then each group's statement and latest plan.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d statements in %d files (%d read, %d malformed skipped), %s in all\n",
		r.Counted, len(r.Files), r.Read, r.Skipped, seconds(r.Total))
	if !r.First.IsZero() {
		fmt.Fprintf(&b, "# from %s to %s\n", r.First.UTC().Format(time.RFC3339), r.Last.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "# %d groups by %s; the top %d by total time\n\n", r.NumGroups, r.GroupBy, len(r.Groups))
	keyHead, keyWidth := "Query ID", 34
	if r.GroupBy != ByFingerprint {
		keyHead, keyWidth = strings.ToUpper(r.GroupBy[:1])+r.GroupBy[1:], 34
	}
	fmt.Fprintf(&b, "%4s %-*s %7s %6s %7s %7s %7s %7s %7s\n", "Rank", keyWidth, keyHead, "Total", "Share", "Calls", "Mean", "P95", "Max", "Rows")
	for _, g := range r.Groups {
		fmt.Fprintf(&b, "%4d %-*s %7s %6s %7s %7s %7s %7s %7s\n", g.Rank, keyWidth, clip(key(g), keyWidth),
			seconds(g.Total), fmt.Sprintf("%.1f%%", g.Share*100), count3(g.Calls), seconds(g.Mean),
			seconds(g.P95), seconds(g.Max), count3(g.Rows))
		fmt.Fprintf(&b, "     %s\n", clip(labels(g), textWidth-5))
	}
	for _, g := range r.Groups {
		b.WriteString("\n")
		g.details(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func key(g Group) string {
	if g.QueryID != "" {
		return g.QueryID
	}
	if g.Key == "" {
		return "(none)"
	}
	return g.Key
}

// labels is the second profile line: views, classes and replicas, the most frequent first.
func labels(g Group) string {
	parts := []string{}
	for _, m := range []map[string]int64{g.Views, g.Classes, g.Replicas} {
		if s := top(m); s != "" {
			parts = append(parts, s)
		}
	}
	if g.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d errors", g.Errors))
	}
	if g.QueryID != "" {
		parts = append(parts, oneLine(g.Sample))
	}
	return strings.Join(parts, "  ")
}

// top names the most frequent key of m and how many others there are.
func top(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	if len(keys) == 1 {
		return keys[0]
	}
	return fmt.Sprintf("%s+%d", keys[0], len(keys)-1)
}

func (g Group) details(b *strings.Builder) {
	fmt.Fprintf(b, "# %d %s  %d calls, %s in all, %s mean, %s p95\n", g.Rank, key(g), g.Calls, seconds(g.Total), seconds(g.Mean), seconds(g.P95))
	for _, l := range []struct {
		name string
		m    map[string]int64
	}{{"views", g.Views}, {"classes", g.Classes}, {"replicas", g.Replicas}} {
		if len(l.m) > 0 {
			wrap(b, "  "+l.name+": ", counts(l.m))
		}
	}
	wrap(b, "  slowest: ", oneLine(g.Sample))
	if g.Plan == nil {
		return
	}
	where := ""
	if g.Plan.Replica != "" {
		where = " on " + g.Plan.Replica
	}
	fmt.Fprintf(b, "  plan%s at %s:\n", where, g.Plan.Time.UTC().Format(time.RFC3339))
	for _, line := range PlanSummary(g.Plan.Plan) {
		b.WriteString("    " + clip(line, textWidth-4) + "\n")
	}
}

func counts(m map[string]int64) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s (%d)", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// wrap writes prefix and text, wrapped at word boundaries to textWidth, continuation lines
// indented under the text.
func wrap(b *strings.Builder, prefix, text string) {
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > textWidth {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// clip cuts s to n bytes, marking the cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// seconds prints a duration in seconds compactly: 950µs, 12.3ms, 1.20s, 1234s.
func seconds(s float64) string {
	switch {
	case s == 0:
		return "0"
	case s < 0.001:
		return fmt.Sprintf("%.0fµs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.1fms", s*1e3)
	case s < 100:
		return fmt.Sprintf("%.2fs", s)
	}
	return fmt.Sprintf("%.0fs", s)
}

// count3 prints a count in at most 7 characters: 1234567, 12.3M.
func count3(n int64) string {
	switch {
	case n < 10_000_000:
		return strconv.FormatInt(n, 10)
	case n < 10_000_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1fG", float64(n)/1e9)
}

// PlanSummary returns a plan as a short tree, one node per line: Postgres's EXPLAIN (FORMAT
// JSON) node types with their relation or index and estimates, or the tables of MariaDB's and
// MySQL's EXPLAIN FORMAT=JSON with their access type and key. Anything else is one line of JSON.
func PlanSummary(plan json.RawMessage) []string {
	var v any
	if err := json.Unmarshal(plan, &v); err != nil {
		return []string{"(not JSON)"}
	}
	var out []string
	if pg, ok := v.([]any); ok && len(pg) > 0 {
		if root, ok := pg[0].(map[string]any)["Plan"].(map[string]any); ok {
			pgNode(&out, root, 0)
			return out
		}
	}
	if m, ok := v.(map[string]any); ok {
		if qb, ok := m["query_block"]; ok {
			myTables(&out, qb)
			if len(out) > 0 {
				return out
			}
		}
	}
	return []string{oneLine(string(plan))}
}

func pgNode(out *[]string, n map[string]any, depth int) {
	s := str(n["Node Type"])
	if idx := str(n["Index Name"]); idx != "" {
		s += " using " + idx
	}
	if rel := str(n["Relation Name"]); rel != "" {
		s += " on " + rel
	}
	if c, ok := n["Total Cost"].(float64); ok {
		s += fmt.Sprintf("  (cost %.2f, rows %v)", c, n["Plan Rows"])
	}
	*out = append(*out, strings.Repeat("  ", depth)+s)
	if kids, ok := n["Plans"].([]any); ok {
		for _, k := range kids {
			if m, ok := k.(map[string]any); ok {
				pgNode(out, m, depth+1)
			}
		}
	}
}

// myTables lists every "table" object in a MySQL/MariaDB plan, depth first in document order.
func myTables(out *[]string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if t, ok := x["table"].(map[string]any); ok {
			s := str(t["table_name"]) + ": " + str(t["access_type"])
			if k := str(t["key"]); k != "" {
				s += " key " + k
			}
			if r, ok := t["rows"].(float64); ok {
				s += fmt.Sprintf(" rows %.0f", r)
			}
			*out = append(*out, s)
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if k != "table" {
				myTables(out, x[k])
			}
		}
	case []any:
		for _, e := range x {
			myTables(out, e)
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
