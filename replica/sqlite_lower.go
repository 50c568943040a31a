package replica

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"modernc.org/sqlite"
)

// sqliteConnector opens SQLite connections through a driver of viewgate's own, which carries
// vg_lower: SQLite's lower() folds ASCII only, and case-insensitive matching must fold "Ä" to
// "ä" as Postgres and MariaDB do. The private driver keeps the function out of the process-wide
// "sqlite" driver.
type sqliteConnector struct {
	d   *sqlite.Driver
	dsn string
}

func newSQLiteConnector(dsn string) (*sqliteConnector, error) {
	d := &sqlite.Driver{}
	err := d.RegisterDeterministicScalarFunction("vg_lower", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		default:
			return strings.ToLower(fmt.Sprint(v)), nil
		}
	})
	if err != nil {
		return nil, fmt.Errorf("register vg_lower: %w", err)
	}
	return &sqliteConnector{d: d, dsn: dsn}, nil
}

func (c *sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }

func (c *sqliteConnector) Driver() driver.Driver { return c.d }
