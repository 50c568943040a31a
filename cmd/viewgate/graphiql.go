package main

import (
	"strings"

	"github.com/viewgate/viewgate/server"
)

// demoQuery is what GraphiQL shows on a first visit to the demo.
const demoQuery = `# The demo's keys are in the headers below; pick another one top right.
# globex has no pii role, so it sees customer e-mails masked; the key without a tenant reads
# only products. Run with Ctrl-Enter.
{
  invoices(first: 3, where: {status: {eq: "paid"}}) {
    totalCount
    nodes { number amount issuedAt customerName customerEmail }
    pageInfo { endCursor hasNextPage }
  }
}
`

// graphiqlOptions offers the demo's API keys on the GraphiQL page when the server runs the
// built-in demo, whose keys are public; a configured server offers none.
func graphiqlOptions(a *app) server.GraphiQLOptions {
	if !a.demo {
		return server.GraphiQLOptions{}
	}
	o := server.GraphiQLOptions{DefaultQuery: demoQuery}
	for _, k := range a.cfg.APIKeys {
		tenant := k.Tenant
		if tenant == "" {
			tenant = "no tenant"
		}
		o.DemoKeys = append(o.DemoKeys, server.DemoKey{Label: tenant + " (" + strings.Join(k.Roles, ", ") + ")", Key: k.Key})
	}
	return o
}
