package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/viewgate/viewgate/querylog"
)

const querylogUsage = `viewgate querylog digest [flags] FILE...

profiles the JSON query log and the slow log (plain or .gz; rotated files are read oldest
first) as pt-query-digest does: per query ID (pt-query-digest's own) or per view, tenant, class
or replica, the total time and its share, calls, mean, p95, max and rows, with the slowest
statement and the latest plan of each. Flags go before the files.`

// querylogCmd runs "viewgate querylog SUBCOMMAND".
func querylogCmd(args []string, now func() time.Time, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "digest" {
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprintf(stdout, "usage: %s\n", querylogUsage)
			return errHelp
		}
		return fmt.Errorf("querylog: want the subcommand digest\nusage: %s", querylogUsage)
	}
	return digest(args[1:], now, stdout)
}

func digest(args []string, now func() time.Time, stdout io.Writer) error {
	fs := newFlags("querylog digest", querylogUsage)
	groupBy := fs.String("group-by", querylog.ByFingerprint, "group by "+strings.Join(querylog.GroupBys, ", "))
	since := fs.String("since", "", "leave out statements before this: RFC 3339 time, YYYY-MM-DD, or a duration ago (24h)")
	until := fs.String("until", "", "leave out statements from this time on (same forms as -since)")
	top := fs.Int("top", 20, "show the N groups with the most total time (0: all)")
	minTime := fs.Duration("min-time", 0, "leave out statements faster than this (e.g. 100ms)")
	format := fs.String("format", "text", "text (for a 100-column terminal) or json")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("querylog digest: name at least one log file (run \"viewgate querylog digest -h\")")
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("querylog digest: -format %q: want text or json", *format)
	}
	o := querylog.DigestOptions{GroupBy: *groupBy, MinTime: *minTime}
	var err error
	if o.Since, err = whenFlag("since", *since, now()); err != nil {
		return err
	}
	if o.Until, err = whenFlag("until", *until, now()); err != nil {
		return err
	}
	d, err := querylog.NewDigest(o)
	if err != nil {
		return fmt.Errorf("querylog digest: -%w", err)
	}
	if err := d.ReadFiles(fs.Args()); err != nil {
		return fmt.Errorf("querylog digest: %w", err)
	}
	rep := d.Report(*top)
	if *format == "json" {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteText(stdout)
}

// whenFlag parses -since or -until: an RFC 3339 time, a date (midnight UTC), or a duration
// before now; "" is no bound.
func whenFlag(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("querylog digest: -%s %q: want an RFC 3339 time, YYYY-MM-DD or a duration such as 24h", name, v)
}
