package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVersionText(t *testing.T) {
	main := debug.Module{Path: "github.com/viewgate/viewgate", Version: "v1.4.0"}
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	cases := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.0", Main: main, Settings: vcs("-buildmode", "exe", "vcs", "git",
			"vcs.revision", "0123456789abcdef0123456789abcdef01234567", "vcs.time", "2026-11-28T17:44:56Z", "vcs.modified", "false")}, true,
			"viewgate  v1.4.0\nmodule    github.com/viewgate/viewgate\ngo        go1.26.0\nrevision  0123456789abcdef0123456789abcdef01234567\ntime      2026-11-28T17:44:56Z\nmodified  false\n"},
		{"modified checkout", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: main.Path, Version: "(devel)"},
			Settings: vcs("vcs.revision", "abc", "vcs.modified", "true")}, true,
			"viewgate  (devel)\nmodule    github.com/viewgate/viewgate\ngo        go1.26.0\nrevision  abc\nmodified  true\n"},
		{"no VCS information", &debug.BuildInfo{GoVersion: "go1.26.0", Main: main}, true,
			"viewgate  v1.4.0\nmodule    github.com/viewgate/viewgate\ngo        go1.26.0\nrevision  unknown (built without VCS information)\n"},
		{"no main module version", &debug.BuildInfo{}, true,
			"viewgate  (unknown)\nrevision  unknown (built without VCS information)\n"},
		{"no build information", nil, false, "viewgate (unknown version: the binary carries no build information)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, versionText(tc.bi, tc.ok)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunVersion: version, -version and --version print this binary's build information.
func TestRunVersion(t *testing.T) {
	for _, args := range []string{"version", "-version", "--version"} {
		var stdout bytes.Buffer
		if err := run(context.Background(), []string{args}, func(string) string { return "" }, &stdout, &bytes.Buffer{}); err != nil {
			t.Fatalf("%s: %v", args, err)
		}
		if !strings.HasPrefix(stdout.String(), "viewgate ") || !strings.Contains(stdout.String(), "revision") {
			t.Errorf("%s: %q", args, stdout.String())
		}
	}
}
