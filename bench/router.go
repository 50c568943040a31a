package bench

import (
	"context"
	"net/http"
	"time"

	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/replica"
)

// ViewgateRouter is Viewgate with the source behind a replica.Router over dsns, one replica
// each (named r1, r2, …), health-checked every interval; o's Name, Driver, Replicas and
// StatementTimeout are filled in. It returns an error if no replica can be reached.
func ViewgateRouter(ctx context.Context, driver string, dsns []string, conns int, o replica.RouterOptions) (h http.Handler, close func(), err error) {
	o.Name, o.Driver, o.StatementTimeout = demo.SourceName, driver, 5*time.Second
	o.Replicas = nil
	for i, dsn := range dsns {
		o.Replicas = append(o.Replicas, replica.ReplicaOptions{Name: "r" + string(rune('1'+i)), DSN: dsn, MaxConns: conns})
	}
	r, err := replica.OpenRouter(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	h, err = viewgateOn(r)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return h, r.Close, nil
}
