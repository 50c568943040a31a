package replica

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

// pgCheck asks a Postgres server whether it is a standby, whether this session still has the
// settings of pgSession (read-only, the statement timeout, UTC) and how far replay lags:
//   - zero when everything received is replayed (receive and replay positions equal), as
//     when a standby has caught up with a quiet primary, or with one that is down;
//   - zero when a WAL receiver is streaming and replay is past the receive position: a
//     restarted standby reports the start of the WAL segment it resumed streaming from until
//     the primary writes again, which on a quiet primary may be never. The receiver's status
//     needs pg_read_all_stats; an account without it sees only that a receiver runs, which
//     then counts as streaming;
//   - else the age of the last replayed transaction, NULL (unknown) when none was replayed
//     since start-up.
const pgCheck = `SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only'),
	(SELECT setting FROM pg_settings WHERE name = 'statement_timeout'), current_setting('TimeZone'),
	CASE WHEN NOT pg_is_in_recovery() THEN 0::float8
	     WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
	     WHEN pg_last_wal_receive_lsn() < pg_last_wal_replay_lsn()
	          AND (SELECT status IS NULL OR status = 'streaming' FROM pg_stat_wal_receiver) THEN 0::float8
	     ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END`

// check reports a standby as read-only; a primary is writable whatever the session says,
// since the session's read-only mode is viewgate's own backstop.
func (pg *postgres) check(ctx context.Context, heartbeat []string) (probe, error) {
	var recovery bool
	var readOnly, timeoutMS, zone string
	var lag *float64
	if err := pg.pool.QueryRow(ctx, pgCheck).Scan(&recovery, &readOnly, &timeoutMS, &zone, &lag); err != nil {
		return probe{}, scrubConnect(fmt.Errorf("health check: %w", err))
	}
	if err := pgSessionMatches(readOnly, timeoutMS, zone, pg.timeout); err != nil {
		return probe{}, fmt.Errorf("health check: %w", err)
	}
	p := probe{readOnly: recovery}
	if heartbeat != nil {
		lag = nil
		q := "SELECT EXTRACT(EPOCH FROM now() - max(ts))::float8 FROM " + quoteParts(heartbeat, '"')
		if err := pg.pool.QueryRow(ctx, q).Scan(&lag); err != nil {
			return probe{}, fmt.Errorf("heartbeat: %w", err)
		}
	}
	if lag != nil {
		p.lag, p.lagKnown = seconds(*lag), true
	}
	return p, nil
}

// quoteParts quotes each part of a [schema.]relation name; the parts were checked to be
// plain identifiers (letters, digits, _) when the router was built.
func quoteParts(parts []string, q byte) string {
	out := make([]byte, 0, 32)
	for i, p := range parts {
		if i > 0 {
			out = append(out, '.')
		}
		out = append(out, q)
		out = append(out, p...)
		out = append(out, q)
	}
	return string(out)
}

// check reads @@read_only and, on MySQL/MariaDB, the replica status's seconds behind the
// source (NULL when replication is stopped, no row when the server is not a replica, an
// error without the monitoring grant: in every case the lag is unknown).
func (s *sqlDB) check(ctx context.Context, heartbeat []string) (probe, error) {
	if s.name == "sqlite" {
		return probe{readOnly: true, lagKnown: true}, s.ping(ctx)
	}
	var ro bool
	var sessRO, sessTimeout string
	if err := s.db.QueryRowContext(ctx, "SELECT @@read_only, "+strings.TrimPrefix(s.verify.query(), "SELECT ")).Scan(&ro, &sessRO, &sessTimeout); err != nil {
		return probe{}, fmt.Errorf("health check: %w", err)
	}
	if err := s.verify.matches(sessRO, sessTimeout); err != nil {
		return probe{}, fmt.Errorf("health check: %w", err)
	}
	p := probe{readOnly: ro}
	if heartbeat != nil {
		var lag sql.NullFloat64
		q := "SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) / 1000000 FROM " + quoteParts(heartbeat, '`')
		if err := s.db.QueryRowContext(ctx, q).Scan(&lag); err != nil {
			return probe{}, fmt.Errorf("heartbeat: %w", err)
		}
		p.lag, p.lagKnown = seconds(lag.Float64), lag.Valid
		return p, nil
	}
	stmt := "SHOW REPLICA STATUS"
	if s.name == "mariadb" {
		stmt = "SHOW SLAVE STATUS"
	}
	if lag, ok := replicaLag(ctx, s.db, stmt); ok {
		p.lag, p.lagKnown = lag, true
	}
	return p, nil
}

// replicaLag returns Seconds_Behind_Master (or _Source) of the first replication channel.
func replicaLag(ctx context.Context, db *sql.DB, stmt string) (time.Duration, bool) {
	rows, err := db.QueryContext(ctx, stmt)
	if err != nil {
		return 0, false
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || !rows.Next() {
		return 0, false
	}
	vals := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if rows.Scan(dest...) != nil {
		return 0, false
	}
	for i, c := range cols {
		if c == "Seconds_Behind_Master" || c == "Seconds_Behind_Source" {
			var secs float64
			if !vals[i].Valid || sscan(vals[i].String, &secs) != nil {
				return 0, false
			}
			return seconds(secs), true
		}
	}
	return 0, false
}

func sscan(s string, f *float64) error {
	_, err := fmt.Sscan(s, f)
	return err
}

// seconds converts a lag in seconds, clamping a negative one (clock skew) to zero.
func seconds(s float64) time.Duration {
	if s <= 0 || math.IsNaN(s) {
		return 0
	}
	return time.Duration(min(s, float64(math.MaxInt64/int64(time.Second))) * float64(time.Second))
}
