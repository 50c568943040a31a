package querylog

import (
	"sync"
	"time"
)

// failReport is how often a failing file is reported at most: one ERROR line per interval, with
// the failures counted since the last line.
const failReport = time.Minute

// failures counts the write failures of one file and paces their ERROR lines.
type failures struct {
	name string

	mu       sync.Mutex
	total    uint64
	unlogged uint64
	last     time.Time // of the last ERROR line
}

// failed counts a write failure of file i, tells the observer and logs an ERROR at most once per
// failReport.
func (l *Logger) failed(i int, err error) {
	f := &l.fails[i]
	if l.o.Observer != nil {
		l.o.Observer.WriteFailed(f.name)
	}
	now := l.o.Now()
	f.mu.Lock()
	f.total++
	f.unlogged++
	report := f.last.IsZero() || now.Sub(f.last) >= failReport
	n, total := f.unlogged, f.total
	if report {
		f.last, f.unlogged = now, 0
	}
	f.mu.Unlock()
	if report {
		l.o.Log.Error("log write failed: entries are being lost", "file", f.name, "error", err.Error(),
			"failed", n, "failedTotal", total)
	}
}

// WriteFailures returns how many writes to the query log and to the slow log have failed.
func (l *Logger) WriteFailures() (queryLog, slowLog uint64) {
	for i := range l.fails {
		l.fails[i].mu.Lock()
	}
	defer func() {
		for i := range l.fails {
			l.fails[i].mu.Unlock()
		}
	}()
	return l.fails[0].total, l.fails[1].total
}
