package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/server"
)

// slowHandler answers /slow only after release is closed, telling entered when it starts.
func slowHandler(entered chan<- struct{}, release <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", server.Health())
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	return mux
}

// get returns the status and body of a GET, or the error.
func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestServe(t *testing.T) {
	tests := []struct {
		name     string
		grace    time.Duration
		wantBody string // of the slow request; "" when it is cut off
		wantErr  string // of Serve; "" for nil
	}{
		{"in-flight request completes", 10 * time.Second, "finished", ""},
		{"grace runs out", 100 * time.Millisecond, "", "graceful shutdown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			base := "http://" + ln.Addr().String()
			entered, release := make(chan struct{}), make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			served := make(chan error, 1)
			go func() {
				served <- server.Serve(ctx, ln, slowHandler(entered, release), slog.New(slog.DiscardHandler), tc.grace)
			}()

			status, body, err := get(base + "/healthz")
			if err != nil || status != http.StatusOK || body != `{"status":"ok"}`+"\n" {
				t.Fatalf("GET /healthz = %d %q %v, want 200 ok", status, body, err)
			}

			type result struct {
				body string
				err  error
			}
			slow := make(chan result, 1)
			go func() {
				_, body, err := get(base + "/slow")
				slow <- result{body, err}
			}()
			<-entered
			cancel()

			var serveErr error
			select {
			case serveErr = <-served:
				if tc.wantBody != "" {
					t.Fatalf("Serve returned %v while a request was in flight", serveErr)
				}
			case <-time.After(300 * time.Millisecond):
				if tc.wantBody == "" {
					t.Fatalf("Serve still waiting %v after a grace of %v", 300*time.Millisecond, tc.grace)
				}
				close(release)
				serveErr = <-served
			}
			if tc.wantBody == "" {
				close(release)
			}
			gotErr := ""
			if serveErr != nil {
				gotErr = serveErr.Error()
			}
			if tc.wantErr == "" && gotErr != "" || !strings.Contains(gotErr, tc.wantErr) {
				t.Errorf("Serve() = %q, want an error containing %q", gotErr, tc.wantErr)
			}
			r := <-slow
			if tc.wantBody != "" && r.err != nil {
				t.Errorf("slow request failed: %v", r.err)
			}
			if diff := cmp.Diff(tc.wantBody, r.body); diff != "" {
				t.Errorf("slow request body (-want +got):\n%s", diff)
			}
			if _, _, err := get(base + "/healthz"); err == nil {
				t.Errorf("server still answers after Serve returned")
			}
		})
	}
}

func TestServeListenerError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	err = server.Serve(context.Background(), ln, http.NotFoundHandler(), slog.New(slog.DiscardHandler), time.Second)
	if err == nil {
		t.Fatal("Serve on a closed listener returned nil")
	}
}
