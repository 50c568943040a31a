package replica

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestHeartbeatLag measures lag from a DBA's heartbeat view on both server engines: a
// heartbeat 20s old is over max_lag 10s, a fresh one is not.
func TestHeartbeatLag(t *testing.T) {
	for _, tc := range []struct {
		driver, stale, fresh string
		setup                []string
		dsn                  func(t *testing.T, setup ...string) string
		exec                 func(t *testing.T, dsn, stmt string)
	}{
		{
			driver: "mysql",
			setup:  []string{"CREATE TABLE hb_t (ts datetime(6))", "INSERT INTO hb_t VALUES (UTC_TIMESTAMP(6) - INTERVAL 20 SECOND)", "CREATE VIEW hb AS SELECT ts FROM hb_t"},
			fresh:  "UPDATE hb_t SET ts = UTC_TIMESTAMP(6)",
			dsn:    func(t *testing.T, setup ...string) string { return newMySQLDatabase(t, setup...) },
			exec: func(t *testing.T, dsn, stmt string) {
				db, err := sql.Open("mysql", dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.ExecContext(testContext(t), stmt); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			driver: "postgres",
			setup:  []string{"CREATE SCHEMA dba", "CREATE TABLE dba.hb_t (ts timestamptz)", "INSERT INTO dba.hb_t VALUES (now() - interval '20 seconds')", "CREATE VIEW dba.hb AS SELECT ts FROM dba.hb_t"},
			fresh:  "UPDATE dba.hb_t SET ts = now()",
			dsn:    func(t *testing.T, setup ...string) string { return newPGDatabase(t, setup...) },
			exec: func(t *testing.T, dsn, stmt string) {
				c, err := pgx.Connect(testContext(t), dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close(testContext(t))
				if _, err := c.Exec(testContext(t), stmt); err != nil {
					t.Fatal(err)
				}
			},
		},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			dsn := tc.dsn(t, tc.setup...)
			hb := "hb"
			if tc.driver == "postgres" {
				hb = "dba.hb"
			}
			r := openTestRouter(t, RouterOptions{Driver: tc.driver, Heartbeat: hb, RiseAfter: 1,
				Replicas: []ReplicaOptions{{Name: "r1", DSN: dsn, MaxLag: 10 * time.Second}}})
			st := statusOf(r, "r1")
			if st.Healthy || !strings.Contains(st.Reason, "over max_lag 10s") || st.LagSecs == nil || *st.LagSecs < 19 {
				t.Fatalf("stale heartbeat: %+v, want out of rotation with lag about 20s", st)
			}
			tc.exec(t, dsn, tc.fresh)
			r.Check(testContext(t))
			if st := statusOf(r, "r1"); !st.Healthy || st.LagSecs == nil || *st.LagSecs > 5 {
				t.Fatalf("fresh heartbeat: %+v, want in rotation", st)
			}
		})
	}
	if _, err := OpenRouter(testContext(t), RouterOptions{Name: "x", Driver: "postgres", Heartbeat: "a;b", Replicas: []ReplicaOptions{{Name: "r"}}}); err == nil {
		t.Error("OpenRouter accepted a heartbeat that is not an identifier")
	}
}
