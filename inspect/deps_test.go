package inspect_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/inspect"
)

// TestReadsFrom follows views of views to the schemas their base tables live in: a view in one
// schema over a view in another over tables in a third.
func TestReadsFrom(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Run("postgres", func(t *testing.T) {
		dsn := dbtest.Postgres(t)
		adb, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer adb.Close()
		execAll(t, adb, `CREATE SCHEMA erp; CREATE SCHEMA mid; CREATE SCHEMA "Out";
			CREATE TABLE erp.t (id int); CREATE TABLE erp.u (id int);
			CREATE VIEW mid.v AS SELECT t.id FROM erp.t JOIN erp.u ON u.id = t.id;
			CREATE VIEW "Out".w AS SELECT id FROM mid.v`, "")
		db := open(t, inspect.Postgres, dsn)
		for _, tc := range []struct {
			rels []string
			want []string
		}{
			{[]string{`Out.w`}, []string{"Out", "erp", "mid"}},
			{[]string{"mid.v", "v_invoices"}, []string{"erp", "mid", "public"}},
			{[]string{"no_such_view", "erp.t"}, []string{"erp"}},
		} {
			got, err := db.ReadsFrom(ctx, tc.rels)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadsFrom(%v) (-want +got):\n%s", tc.rels, diff)
			}
		}
	})
	t.Run("mariadb", func(t *testing.T) {
		dsn := dbtest.MariaDB(t)
		cfg, _ := mysql.ParseDSN(dsn)
		erp, mid := randName(t, "vgerp_"), randName(t, "vgmid_")
		execAdmin(t, dsn, "CREATE DATABASE "+erp+"; CREATE DATABASE "+mid)
		t.Cleanup(func() { execAdmin(t, dsn, "DROP DATABASE "+erp+"; DROP DATABASE "+mid) })
		execAdmin(t, dsn, "CREATE TABLE "+erp+".t (id int); CREATE TABLE "+erp+".u (id int);"+
			"CREATE VIEW "+mid+".v AS SELECT t.id, (SELECT COUNT(*) FROM "+erp+".u uu WHERE uu.id = t.id) AS n FROM "+erp+".t t JOIN "+erp+".u ON u.id = t.id;"+
			"CREATE VIEW "+cfg.DBName+".w AS SELECT id FROM "+mid+".v")
		db := open(t, inspect.MySQL, dsn)
		got, err := db.ReadsFrom(ctx, []string{"w", "v_invoices"})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{cfg.DBName, erp, mid}
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ReadsFrom (-want +got):\n%s", diff)
		}
	})
}
