package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/server"
)

// TestGraphiQLOptions: only the built-in demo offers its keys on the GraphiQL page; a configured
// server's keys are secrets.
func TestGraphiQLOptions(t *testing.T) {
	keys := []config.APIKey{
		{ID: "a", Tenant: "acme", Roles: []string{"reporting", "pii"}, Key: "key-a"},
		{ID: "g", Tenant: "globex", Roles: []string{"reporting"}, Key: "key-g"},
		{ID: "p", Roles: []string{"public"}, Key: "key-p"},
	}
	tests := []struct {
		name string
		demo bool
		want []server.DemoKey
	}{
		{"demo", true, []server.DemoKey{{Label: "acme (reporting, pii)", Key: "key-a"}, {Label: "globex (reporting)", Key: "key-g"}, {Label: "no tenant (public)", Key: "key-p"}}},
		{"configured", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := graphiqlOptions(&app{demo: tc.demo, cfg: &config.Config{APIKeys: keys}})
			if diff := cmp.Diff(tc.want, o.DemoKeys); diff != "" {
				t.Errorf("demo keys (-want +got):\n%s", diff)
			}
			if (o.DefaultQuery != "") != tc.demo {
				t.Errorf("default query %q", o.DefaultQuery)
			}
		})
	}
}
