package dbtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// BackendCPU returns the CPU time so far of every backend connected to probe's database but
// probe's own, by pid, read from /proc/<pid>/schedstat: what a benchmark's own statements cost
// Postgres, whatever other clients of the server do. It returns an error when /proc does not
// show the backends (Postgres on another machine, or not root or the postgres user); a backend
// that ended meanwhile is left out.
func BackendCPU(ctx context.Context, probe *pgx.Conn) (map[int32]time.Duration, error) {
	rows, err := probe.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	if err != nil {
		return nil, fmt.Errorf("list backends: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("list backends: %w", err)
	}
	out := make(map[int32]time.Duration, len(pids))
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/schedstat")
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("backend CPU: %w", err)
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			return nil, fmt.Errorf("backend CPU: empty schedstat for pid %d", pid)
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("backend CPU: %w", err)
		}
		out[pid] = time.Duration(ns)
	}
	return out, nil
}
