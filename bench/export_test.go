package bench_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// TestExportAgainstPsql runs cmd/vgexportbench: the real viewgate binary on 127.0.0.1 with a
// catalog over the peer benchmark's reporting.v_invoices, its /export in CSV, NDJSON and
// gzip timed against psql \copy of the same rows, interleaved, the median of the rounds
// (and with VIEWGATE_BENCH_EXPORT_BIG=1 the peak RSS of 1M- and 10M-row exports). It is a
// measurement, not a check: it runs only with VIEWGATE_BENCH_EXPORT=N (the rounds), needs
// ../shared/peer-bench/setup-data.sh's database, and prints the figures.
//
//	VIEWGATE_BENCH_EXPORT=5 flock /tmp/vg-bench.lock go test ./bench -run TestExportAgainstPsql -v -timeout 30m
func TestExportAgainstPsql(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("VIEWGATE_BENCH_EXPORT"))
	if rounds <= 0 {
		t.Skip("a measurement: set VIEWGATE_BENCH_EXPORT to the number of rounds")
	}
	args := []string{"run", "github.com/viewgate/viewgate/cmd/vgexportbench", "-rounds", strconv.Itoa(rounds)}
	if os.Getenv("VIEWGATE_BENCH_EXPORT_BIG") == "1" {
		args = append(args, "-big")
	}
	if dsn := os.Getenv("VIEWGATE_PEER_DSN"); dsn != "" {
		args = append(args, "-pg", dsn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	t.Logf("go %v\n%s", args, out)
	if err != nil {
		t.Fatal(err)
	}
}
