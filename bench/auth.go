package bench

import (
	"context"
	"net/http"
	"time"

	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/server"
)

// ViewgateAuth is Viewgate with authn deciding who asks (an auth.Chain with anonymous access, a
// keys file or a JWT issuer), so authentication's cost can be measured on the same query.
func ViewgateAuth(ctx context.Context, driver, dsn string, conns int, authn server.Authenticator) (h http.Handler, close func(), err error) {
	src, err := replica.Open(ctx, replica.Options{Name: demo.SourceName, Driver: driver, DSN: dsn, MaxConns: conns, StatementTimeout: 5 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	h, _, err = viewgateWith(src, authn, nil, "")
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return h, src.Close, nil
}
