package inspect_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/inspect"
	"github.com/viewgate/viewgate/views"
)

func open(t *testing.T, driver, dsn string) *inspect.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := inspect.Open(ctx, driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestRelation reads the demo's v_invoices on every engine: it is a view, and each column's
// type serves its catalog type.
func TestRelation(t *testing.T) {
	cat, err := views.ParseCatalog(mustDemoCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ engine, driver string }{{"sqlite", inspect.SQLite}, {"postgres", inspect.Postgres}, {"mariadb", inspect.MySQL}} {
		t.Run(tc.engine, func(t *testing.T) {
			var dsn string
			switch tc.engine {
			case "sqlite":
				dsn = dbtest.SQLite(t)
			case "postgres":
				dsn = dbtest.Postgres(t)
			default:
				dsn = dbtest.MariaDB(t)
			}
			db := open(t, tc.driver, dsn)
			ctx := context.Background()
			for _, v := range cat.Views {
				r, err := db.Relation(ctx, v.Relation)
				if err != nil {
					t.Fatal(err)
				}
				if r.Kind != inspect.View {
					t.Errorf("%s is a %s", v.Relation, r.Kind)
				}
				for _, f := range inspect.Compare(tc.driver, v, r) {
					if f.Level == inspect.Error {
						t.Errorf("%s: %s", v.Name, f.Message)
					}
				}
			}
			if r, err := db.Relation(ctx, "erp_invoice"); err != nil || r.Kind != inspect.Table {
				t.Errorf("erp_invoice: %+v %v", r, err)
			}
			if _, err := db.Relation(ctx, "no_such_view"); !errors.Is(err, inspect.ErrNotFound) {
				t.Errorf("no_such_view: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestHiddenColumns: MariaDB hides a view's columns from a user without EXECUTE on a function the
// view calls (the demo's vg_int32); the error says so instead of reporting every column dropped.
func TestHiddenColumns(t *testing.T) {
	admin := dbtest.MariaDB(t)
	cfg, _ := mysql.ParseDSN(admin)
	user := "'" + randName(t, "vgh_") + "'@'%'"
	execAdmin(t, admin, "CREATE USER "+user+" IDENTIFIED BY 'pw'; GRANT SELECT ON "+cfg.DBName+".* TO "+user)
	t.Cleanup(func() { execAdmin(t, admin, "DROP USER "+user) })
	c := cfg.Clone()
	c.User, c.Passwd = strings.Split(strings.Trim(user, "'"), "'@'")[0], "pw"
	db := open(t, inspect.MySQL, c.FormatDSN())
	_, err := db.Relation(context.Background(), "v_invoices")
	if err == nil || !strings.Contains(err.Error(), "GRANT EXECUTE ON FUNCTION") {
		t.Fatalf("got %v", err)
	}
}

func TestCompatible(t *testing.T) {
	two := 2
	cases := []struct {
		engine string
		typ    views.Type
		scale  *int
		col    inspect.Column
		want   inspect.Level
	}{
		{inspect.Postgres, views.Int, nil, inspect.Column{Type: "integer", Base: "integer"}, ""},
		{inspect.Postgres, views.Int, nil, inspect.Column{Type: "bigint", Base: "bigint"}, inspect.Error},
		{inspect.Postgres, views.BigInt, nil, inspect.Column{Type: "integer", Base: "integer"}, ""},
		{inspect.Postgres, views.Text, nil, inspect.Column{Type: "character varying(64)", Base: "character varying"}, ""},
		{inspect.Postgres, views.Text, nil, inspect.Column{Type: "citext", Base: "citext"}, ""},
		{inspect.Postgres, views.Decimal, &two, inspect.Column{Type: "numeric(14,2)", Base: "numeric", Scale: 2}, ""},
		{inspect.Postgres, views.Decimal, &two, inspect.Column{Type: "numeric(14,3)", Base: "numeric", Scale: 3}, inspect.Error},
		{inspect.Postgres, views.Decimal, &two, inspect.Column{Type: "numeric", Base: "numeric", Scale: -1}, inspect.Warning},
		{inspect.Postgres, views.Timestamp, nil, inspect.Column{Type: "timestamp with time zone", Base: "timestamp with time zone"}, ""},
		{inspect.Postgres, views.JSON, nil, inspect.Column{Type: "jsonb", Base: "jsonb"}, ""},
		{inspect.Postgres, views.Text, nil, inspect.Column{Type: "text[]", Base: "text[]"}, inspect.Error},
		{inspect.MySQL, views.Bool, nil, inspect.Column{Type: "tinyint(1)", Base: "tinyint"}, ""},
		{inspect.MySQL, views.Bool, nil, inspect.Column{Type: "tinyint(4)", Base: "tinyint"}, inspect.Error},
		{inspect.MySQL, views.Int, nil, inspect.Column{Type: "int(11)", Base: "int"}, ""},
		{inspect.MySQL, views.Int, nil, inspect.Column{Type: "int(10) unsigned", Base: "int", Unsigned: true}, inspect.Error},
		{inspect.MySQL, views.BigInt, nil, inspect.Column{Type: "int(10) unsigned", Base: "int", Unsigned: true}, ""},
		{inspect.MySQL, views.BigInt, nil, inspect.Column{Type: "bigint(20) unsigned", Base: "bigint", Unsigned: true}, inspect.Error},
		{inspect.MySQL, views.Int, nil, inspect.Column{Type: "bigint(21)", Base: "bigint"}, inspect.Error},
		{inspect.MySQL, views.UUID, nil, inspect.Column{Type: "char(36)", Base: "char"}, ""},
		{inspect.MySQL, views.UUID, nil, inspect.Column{Type: "char(32)", Base: "char"}, inspect.Error},
		{inspect.MySQL, views.Timestamp, nil, inspect.Column{Type: "datetime", Base: "datetime"}, ""},
		{inspect.SQLite, views.Timestamp, nil, lite("TEXT"), ""},
		{inspect.SQLite, views.Int, nil, lite(""), inspect.Note},
		{inspect.SQLite, views.Int, nil, lite("REAL"), inspect.Error},
		// DATETIME has NUMERIC affinity, but the driver reads it as a time: never a decimal.
		{inspect.SQLite, views.Timestamp, nil, lite("DATETIME"), ""},
		{inspect.SQLite, views.Decimal, &two, lite("DATETIME"), inspect.Error},
		{inspect.SQLite, views.Float, nil, lite("TIMESTAMP"), inspect.Error},
		{inspect.SQLite, views.Text, nil, lite("DATETIME"), inspect.Error},
		{inspect.SQLite, views.Date, nil, lite("DATE"), ""},
		{inspect.SQLite, views.Timestamp, nil, lite("DATE"), inspect.Error},
		{inspect.SQLite, views.Decimal, &two, lite("NUMERIC(10,2)"), ""},
		{inspect.SQLite, views.Decimal, &two, lite("DECIMAL(10, 3)"), inspect.Error},
		{inspect.SQLite, views.Decimal, &two, lite("NUMERIC"), inspect.Warning},
		{inspect.SQLite, views.Decimal, &two, lite("INTEGER"), ""},
		{inspect.SQLite, views.Bool, nil, lite("BOOLEAN"), ""},
		{inspect.SQLite, views.Bool, nil, lite("NUMERIC"), inspect.Error},
		{inspect.SQLite, views.JSON, nil, lite("JSON"), ""},
		{inspect.SQLite, views.Int, nil, lite("JSON"), inspect.Error},
		{inspect.SQLite, views.UUID, nil, lite("CHAR(36)"), ""},
	}
	for _, tc := range cases {
		got, why := inspect.Compatible(tc.engine, tc.typ, tc.scale, tc.col)
		if got != tc.want {
			t.Errorf("%s %s ⇐ %s: got %q (%s), want %q", tc.engine, tc.typ, tc.col.Type, got, why, tc.want)
		}
	}
}

func execAdmin(t *testing.T, dsn, stmts string) {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	execAll(t, db, stmts, "")
}

func mustDemoCatalog(t *testing.T) []byte {
	t.Helper()
	return demo.Catalog()
}

// lite describes a SQLite column the way inspect reads one with that declared type.
func lite(declared string) inspect.Column {
	return inspect.LiteColumn(declared)
}
