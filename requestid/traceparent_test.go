package requestid

import "testing"

func TestParseTraceparent(t *testing.T) {
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, tc := range []struct{ name, in, want string }{
		{"valid", "00-" + trace + "-00f067aa0ba902b7-01", trace},
		{"not sampled", "00-" + trace + "-00f067aa0ba902b7-00", trace},
		{"future version with more fields", "01-" + trace + "-00f067aa0ba902b7-01-extra", trace},
		{"version 00 with more fields", "00-" + trace + "-00f067aa0ba902b7-01-extra", ""},
		{"version ff", "ff-" + trace + "-00f067aa0ba902b7-01", ""},
		{"upper case", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", ""},
		{"zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""},
		{"zero parent id", "00-" + trace + "-0000000000000000-01", ""},
		{"short", "00-" + trace + "-00f067aa0ba902b7", ""},
		{"bad separator", "00_" + trace + "-00f067aa0ba902b7-01", ""},
		{"empty", "", ""},
	} {
		if got := ParseTraceparent(tc.in); got != tc.want {
			t.Errorf("%s: ParseTraceparent(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}
