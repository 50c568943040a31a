package replica

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
)

func openTestRouter(t *testing.T, o RouterOptions) *Router {
	t.Helper()
	o.Name = "shop"
	o.CheckInterval = -1
	r, err := OpenRouter(testContext(t), o)
	if err != nil {
		t.Fatalf("OpenRouter: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

func statusOf(r *Router, name string) ReplicaStatus {
	for _, st := range r.Status().Replicas {
		if st.Name == name {
			return st
		}
	}
	return ReplicaStatus{}
}

func TestMySQLRouterEjectsDeadReplica(t *testing.T) {
	dsn := newMySQLDatabase(t, `CREATE TABLE t (i int)`, `INSERT INTO t VALUES (7)`)
	r := openTestRouter(t, RouterOptions{Driver: "mysql", Replicas: []ReplicaOptions{
		{Name: "dead", DSN: "root:s3cretpw@tcp(127.0.0.1:1)/nodb"},
		{Name: "live", DSN: dsn},
	}})
	if d := r.Dialect(); d != "mariadb" && d != "mysql" {
		t.Errorf("Dialect = %q", d)
	}
	for range 10 {
		var n sql.NullInt64
		err := r.Query(testContext(t), "SELECT i FROM t", nil, func(rows Rows) error {
			for rows.Next() {
				if err := rows.Scan(&n); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		if err != nil || n.Int64 != 7 {
			t.Fatalf("Query = %v, %v; want 7 from the live replica", n, err)
		}
	}
	r.Check(testContext(t))
	dead, live := statusOf(r, "dead"), statusOf(r, "live")
	if dead.Healthy || !strings.Contains(dead.Reason, "connection refused") {
		t.Errorf("dead replica: %+v, want out of rotation, connection refused", dead)
	}
	if !live.Healthy || live.Errors != 0 {
		t.Errorf("live replica: %+v", live)
	}
	if s := r.why(); strings.Contains(s, "s3cretpw") || strings.Contains(s, "127.0.0.1") {
		t.Errorf("reason shows the DSN: %s", s)
	}
}

func TestMySQLRouterAllDeadAtOpen(t *testing.T) {
	_, err := OpenRouter(testContext(t), RouterOptions{Name: "shop", Driver: "mysql", CheckInterval: -1,
		Replicas: []ReplicaOptions{{Name: "a", DSN: "root:s3cretpw@tcp(127.0.0.1:1)/x"}}})
	if !errors.Is(err, ErrNoHealthyReplica) || strings.Contains(err.Error(), "s3cretpw") {
		t.Fatalf("OpenRouter = %v, want ErrNoHealthyReplica without the password", err)
	}
}

// TestMySQLRouterReadOnlyDetection runs against the local server, which is writable: with
// require_replica it is refused, and once @@read_only is on (restored at cleanup) it is taken.
func TestMySQLRouterReadOnlyDetection(t *testing.T) {
	dsn := newMySQLDatabase(t)
	r := openTestRouter(t, RouterOptions{Driver: "mysql", RequireReplica: true, RiseAfter: 1, Replicas: []ReplicaOptions{
		{Name: "writable", DSN: dsn},
		{Name: "lagless", DSN: dsn, MaxLag: 10 * time.Second},
	}})
	if st := statusOf(r, "writable"); st.Healthy || !strings.HasPrefix(st.Reason, "writable") {
		t.Fatalf("writable server: %+v, want refused as not read-only", st)
	}
	err := r.Query(testContext(t), "SELECT 1", nil, func(Rows) error { return nil })
	if !errors.Is(err, ErrNoHealthyReplica) {
		t.Fatalf("Query = %v, want ErrNoHealthyReplica", err)
	}

	admin, err := sql.Open("mysql", mysqlAdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() }) // after the restore below: cleanups run last-in first-out
	if _, err := admin.ExecContext(testContext(t), "SET GLOBAL read_only = 1"); err != nil {
		t.Fatalf("SET GLOBAL read_only: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("SET GLOBAL read_only = 0"); err != nil {
			t.Errorf("restore read_only: %v", err)
		}
	})
	r.Check(testContext(t))
	if _, err := admin.ExecContext(testContext(t), "SET GLOBAL read_only = 0"); err != nil {
		t.Fatalf("restore read_only: %v", err)
	}
	if st := statusOf(r, "writable"); !st.Healthy {
		t.Errorf("read-only server: %+v, want in rotation", st)
	}
	// The local server is not replicating, so a max_lag cannot be judged.
	if st := statusOf(r, "lagless"); st.Healthy || !strings.Contains(st.Reason, "lag unknown") {
		t.Errorf("server without replication and max_lag: %+v, want out as lag unknown", st)
	}
}
