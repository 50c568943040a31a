package dbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvPGBin names the directory of the Postgres server binaries QuietPair runs; by default
// it is the newest /usr/lib/postgresql/<version>/bin.
const EnvPGBin = "VIEWGATE_TEST_PG_BIN"

// Pair is a private Postgres primary and a hot standby of it, which no other test writes
// to: what a test needs to watch a standby on an idle primary.
type Pair struct {
	Primary, Standby string // postgres:// DSNs of the postgres database, user postgres

	bin, dir string
}

// QuietPair starts a private primary and a streaming hot standby of it on free loopback ports,
// in a temporary directory, and stops and removes both when the test ends. It needs the
// Postgres server binaries and root or the postgres user (like .ci/standby); without them it
// skips the test, or fails it when CI is set.
func QuietPair(t testing.TB) *Pair {
	t.Helper()
	bin, err := pgBin()
	if err == nil {
		err = canRunAsPostgres()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("dbtest: cannot start a private Postgres pair (CI is set, so this fails): %v", err)
		}
		t.Skipf("dbtest: cannot start a private Postgres pair: %v", err)
	}
	dir, err := os.MkdirTemp("", "vgtest-pg-")
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	p := &Pair{bin: bin, dir: dir}
	t.Cleanup(func() {
		for _, d := range []string{"standby", "primary"} {
			_ = p.pgCtl(context.Background(), d, "stop", "-m", "immediate")
		}
		os.RemoveAll(dir)
	})
	if err := chownPostgres(dir); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	ports, err := freePorts(2)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := p.start(ctx, ports[0], ports[1]); err != nil {
		t.Fatalf("dbtest: private Postgres pair: %v", err)
	}
	p.Primary = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", ports[0])
	p.Standby = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", ports[1])
	return p
}

// start creates the primary with initdb, the standby with pg_basebackup -R, and starts both.
func (p *Pair) start(ctx context.Context, primaryPort, standbyPort int) error {
	primary, standby := filepath.Join(p.dir, "primary"), filepath.Join(p.dir, "standby")
	if err := p.run(ctx, "initdb", "-D", primary, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		return err
	}
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"fsync = off\nshared_buffers = 16MB\nmax_connections = 20\ntimezone = 'Etc/UTC'\n", primaryPort, p.dir)
	if err := p.appendConf(primary, conf); err != nil {
		return err
	}
	if err := p.pgCtl(ctx, "primary", "start"); err != nil {
		return err
	}
	if err := p.run(ctx, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(primaryPort), "-U", "postgres",
		"-D", standby, "-R", "-X", "stream", "-c", "fast"); err != nil {
		return err
	}
	if err := p.appendConf(standby, fmt.Sprintf("port = %d\nhot_standby = on\n", standbyPort)); err != nil {
		return err
	}
	return p.pgCtl(ctx, "standby", "start")
}

// Ctl runs pg_ctl action ("start", "stop" or "restart", fast shutdown) on server ("primary"
// or "standby"), waiting until it is done.
func (p *Pair) Ctl(t testing.TB, server, action string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	args := []string{action}
	if action != "start" {
		args = append(args, "-m", "fast")
	}
	if err := p.pgCtl(ctx, server, args...); err != nil {
		t.Fatalf("dbtest: %s the private %s: %v", action, server, err)
	}
}

// pgCtl runs pg_ctl on the named data directory, waiting for the action to complete.
func (p *Pair) pgCtl(ctx context.Context, name string, args ...string) error {
	data := filepath.Join(p.dir, name)
	base := []string{"-D", data, "-l", data + ".log", "-w", "-t", "60"}
	return p.run(ctx, "pg_ctl", append(base, args...)...)
}

func (p *Pair) appendConf(data, lines string) error {
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(lines)
	return errors.Join(err, f.Close())
}

// run runs one of the server binaries as the postgres user.
func (p *Pair) run(ctx context.Context, name string, args ...string) error {
	cmd := filepath.Join(p.bin, name)
	var c *exec.Cmd
	if os.Geteuid() == 0 {
		c = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", cmd}, args...)...)
	} else {
		c = exec.CommandContext(ctx, cmd, args...)
	}
	c.Dir = p.dir
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// pgBin returns the directory of the newest installed Postgres server binaries.
func pgBin() (string, error) {
	if dir := os.Getenv(EnvPGBin); dir != "" {
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return pgVersion(a) - pgVersion(b) })
	for _, d := range slices.Backward(dirs) {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no Postgres server binaries under /usr/lib/postgresql (set %s)", EnvPGBin)
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// canRunAsPostgres reports whether this process is root (and a postgres user exists) or the postgres user.
func canRunAsPostgres() error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("no postgres user: %w", err)
	}
	if os.Geteuid() == 0 || strconv.Itoa(os.Geteuid()) == u.Uid {
		return nil
	}
	return fmt.Errorf("the server must run as the postgres user: run the test as root or postgres")
}

func chownPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// freePorts returns n loopback TCP ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// WaitReplayed waits until the standby has replayed everything the primary had written when
// it was called.
func (p *Pair) WaitReplayed(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	var target string
	if err := queryRow(ctx, p.Primary, "SELECT pg_current_wal_lsn()::text", &target); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	db, err := sql.Open("pgx", p.Standby)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	defer db.Close()
	for {
		var done bool
		err := db.QueryRowContext(ctx, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target).Scan(&done)
		if err == nil && done {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("dbtest: the private standby did not replay up to %s within %s: %v", target, replayTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
