package replica_test

import (
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/resolvers"
)

// main wires a Router per source as the resolvers' Runner; a bare Source still fits.
var (
	_ resolvers.Runner = (*replica.Router)(nil)
	_ resolvers.Runner = (*replica.Source)(nil)
)
