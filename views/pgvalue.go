package views

import (
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// pgDest returns a pgx-native scan destination for the column, or nil for database/sql's:
// pgx scans into these without the database/sql conversion (a boxed driver.Value and
// reflection per value), which was about a third of a streamed export's CPU.
func pgDest(c *Column) any {
	switch c.Type {
	case Int, BigInt:
		return new(pgtype.Int8)
	case Float:
		return new(pgtype.Float8)
	case Bool:
		return new(pgtype.Bool)
	case Text:
		return new(pgtype.Text)
	case Timestamp:
		return new(pgTime)
	}
	return nil
}

// pgDecode is decode for pgDest's destinations; ok is false for other destinations.
func pgDecode(c *Column, dest any) (v any, ok bool, err error) {
	switch x := dest.(type) {
	case *pgtype.Int8:
		if !x.Valid {
			return nil, true, nil
		}
		if c.Type == BigInt {
			return strconv.FormatInt(x.Int64, 10), true, nil
		}
		return x.Int64, true, nil
	case *pgtype.Float8:
		if !x.Valid {
			return nil, true, nil
		}
		return x.Float64, true, nil
	case *pgtype.Bool:
		if !x.Valid {
			return nil, true, nil
		}
		return x.Bool, true, nil
	case *pgtype.Text:
		if !x.Valid {
			return nil, true, nil
		}
		v, err := decodeString(c, x.String)
		return v, true, err
	case *pgTime:
		if !x.valid {
			return nil, true, nil
		}
		return x.t.UTC(), true, nil
	}
	return nil, false, nil
}

// pgTime scans timestamp and timestamptz values alike, natively through pgx or through
// database/sql. Infinite timestamps are refused, as database/sql's conversion refuses them.
type pgTime struct {
	t     time.Time
	valid bool
}

func (p *pgTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	return p.set(v.Time, v.Valid, v.InfinityModifier)
}

func (p *pgTime) ScanTimestamp(v pgtype.Timestamp) error {
	return p.set(v.Time, v.Valid, v.InfinityModifier)
}

func (p *pgTime) set(t time.Time, valid bool, inf pgtype.InfinityModifier) error {
	if valid && inf != pgtype.Finite {
		return errInfinite
	}
	p.t, p.valid = t, valid
	return nil
}

// Scan implements sql.Scanner.
func (p *pgTime) Scan(src any) error {
	var nt sql.NullTime
	if err := nt.Scan(src); err != nil {
		return err
	}
	p.t, p.valid = nt.Time, nt.Valid
	return nil
}

var errInfinite = errors.New("an infinite timestamp has no normal form")
