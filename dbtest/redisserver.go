package dbtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a private redis-server on a loopback port, which a test may stop, restart and
// pause; it is never the shared test Redis.
type RedisServer struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
}

// StartRedis starts a private redis-server on a free loopback port and stops it when the test
// ends; it skips the test when the binary is missing, or fails it when CI is set.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server not found (CI is set, so this fails): %v", err)
		}
		t.Skipf("redis-server not found: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &RedisServer{t: t, port: port}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's redis:// URL.
func (s *RedisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Start runs the server (again, on the same port) and waits until it answers PING (bounded).
func (s *RedisServer) Start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	c := s.Client()
	defer c.Close()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if i == 100 {
			s.t.Fatalf("redis-server on port %d does not answer: %v", s.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server this test started (by its own process, never another).
func (s *RedisServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Pause stops the process without closing its connections (SIGSTOP): a hung Redis; Resume
// continues it.
func (s *RedisServer) Pause() error  { return s.cmd.Process.Signal(syscall.SIGSTOP) }
func (s *RedisServer) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Client returns a client of the server that does not retry.
func (s *RedisServer) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port), MaxRetries: -1})
}
