package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "1048576", want: 1 << 20},
		{in: "512KiB", want: 512 << 10},
		{in: "1MiB", want: 1 << 20},
		{in: "1 MiB", want: 1 << 20},
		{in: "2gib", want: 2 << 30},
		{in: "1KB", want: 1000},
		{in: "3MB", want: 3000000},
		{in: "10B", want: 10},
		{in: "1.5MiB", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "1M", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "99999999999GiB", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		got, err := parseBytes(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseBytes(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); !tc.wantErr && diff != "" {
			t.Errorf("parseBytes(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestKeyPaths(t *testing.T) {
	tests := []struct {
		path, key, want string
	}{
		{"", "listen", "listen"},
		{"environments", "prod", "environments.prod"},
		{"environments.prod.sources", "bad name", `environments.prod.sources."bad name"`},
		{"x", "a.b", `x."a.b"`},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, join(tc.path, tc.key)); diff != "" {
			t.Errorf("join(%q, %q) mismatch (-want +got):\n%s", tc.path, tc.key, diff)
		}
	}
}
