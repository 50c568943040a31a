package replica

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// cleanupTimeout bounds the ROLLBACK or Close of a connection coming back dirty.
const cleanupTimeout = 5 * time.Second

// pgPool is a minimal pool of pgx connections. pgxpool would be the natural choice,
// but it needs github.com/jackc/puddle/v2, which go.sum does not carry yet; this
// pool does what Query needs: a size cap, reuse, and never reusing a dirty connection.
type pgPool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per open or opening connection

	mu     sync.Mutex
	idle   []*pgx.Conn
	closed bool
}

func newPGPool(cfg *pgx.ConnConfig, maxConns int) *pgPool {
	return &pgPool{cfg: cfg, slots: make(chan struct{}, maxConns)}
}

// acquire returns an idle connection or dials a new one; it waits for a free slot
// until ctx ends.
func (p *pgPool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a free connection: %w", ctx.Err())
	}
	if conn := p.popIdle(); conn != nil {
		return conn, nil
	}
	conn, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return conn, nil
}

func (p *pgPool) popIdle() *pgx.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle) > 0 {
		conn := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !conn.IsClosed() {
			return conn
		}
	}
	return nil
}

// release returns conn to the pool when it is idle outside any transaction; a
// connection left in an open or failed transaction is rolled back, or closed if
// that fails.
func (p *pgPool) release(conn *pgx.Conn) {
	defer func() { <-p.slots }()
	if !clean(conn) {
		closeConn(conn)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		closeConn(conn)
		return
	}
	p.idle = append(p.idle, conn)
}

func clean(conn *pgx.Conn) bool {
	if conn.IsClosed() {
		return false
	}
	if conn.PgConn().TxStatus() == 'I' {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_, err := conn.Exec(ctx, "ROLLBACK")
	return err == nil && conn.PgConn().TxStatus() == 'I'
}

// close closes the idle connections; busy ones are closed when released.
func (p *pgPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, conn := range idle {
		closeConn(conn)
	}
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	conn.Close(ctx) // the connection is dropped either way; nothing to report
}
