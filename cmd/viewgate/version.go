package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version prints the module version and the VCS revision the binary was built from;
// readBuildInfo is debug.ReadBuildInfo (injected for tests).
func version(args []string, readBuildInfo func() (*debug.BuildInfo, bool), stdout io.Writer) error {
	fs := newFlags("version", "viewgate version\n\nprints the module version, the Go version and the VCS revision, time and state\nthe binary was built from (go build records them; go run and -buildvcs=false do not).")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	_, err := io.WriteString(stdout, versionText(readBuildInfo()))
	return err
}

// versionText renders build information as "key value" lines, saying what is unknown.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "viewgate (unknown version: the binary carries no build information)\n"
	}
	var b strings.Builder
	v := bi.Main.Version
	if v == "" {
		v = "(unknown)"
	}
	line := func(k, v string) { fmt.Fprintf(&b, "%-9s %s\n", k, v) }
	line("viewgate", v)
	if bi.Main.Path != "" {
		line("module", bi.Main.Path)
	}
	if bi.GoVersion != "" {
		line("go", bi.GoVersion)
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		if k, ok := strings.CutPrefix(s.Key, "vcs."); ok {
			vcs[k] = s.Value
		}
	}
	if vcs["revision"] == "" {
		line("revision", "unknown (built without VCS information)")
		return b.String()
	}
	for _, k := range []string{"revision", "time", "modified"} {
		if vcs[k] != "" {
			line(k, vcs[k])
		}
	}
	return b.String()
}
