package querylog

import (
	"context"
	"sync"
	"time"
)

// PlanOptions says when the plans of slow statements are captured.
type PlanOptions struct {
	// Interval is how long a query ID's plan stands before a slow statement captures it again;
	// zero means plans are never captured.
	Interval time.Duration
	// PerMinute caps the captures of all query IDs together in any minute-long window; zero means 10.
	PerMinute int
	// Timeout bounds one capture; zero means DefaultPlanTimeout.
	Timeout time.Duration
}

// Defaults of PlanOptions.
const (
	DefaultPlanTimeout   = 2 * time.Second
	DefaultPlanPerMinute = 10
)

// planQueue is how many slow entries may wait for their plan; more are written without one.
const planQueue = 16

// maxPlanIDs bounds the query IDs whose last capture is remembered.
const maxPlanIDs = 10000

type planJob struct {
	id string
	e  Entry
}

// planner decides which slow statements get a plan and captures them, one at a time, in the
// background, so that no request waits for a plan.
type planner struct {
	o       PlanOptions
	now     func() time.Time
	capture func(ctx context.Context, id string, e Entry)

	mu     sync.Mutex
	last   map[string]time.Time // query ID → last capture
	window time.Time            // start of the current minute window
	used   int                  // captures in it

	jobs chan planJob
	done chan struct{}
	stop sync.Once
}

func newPlanner(o PlanOptions, now func() time.Time, capture func(context.Context, string, Entry)) *planner {
	if o.PerMinute <= 0 {
		o.PerMinute = DefaultPlanPerMinute
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultPlanTimeout
	}
	p := &planner{o: o, now: now, capture: capture, last: map[string]time.Time{}}
	if o.Interval > 0 {
		p.jobs, p.done = make(chan planJob, planQueue), make(chan struct{})
		go p.run()
	}
	return p
}

// offer queues e for a plan when its query ID is due and the rate allows; it reports whether
// the entry was taken (the worker writes it).
func (p *planner) offer(id string, e Entry) bool {
	if p.jobs == nil || !p.due(id) {
		return false
	}
	select {
	case p.jobs <- planJob{id: id, e: e}:
		return true
	default:
		p.undo(id)
		return false
	}
}

// due reports whether id may be captured now, and books the capture if so.
func (p *planner) due(id string) bool {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.last[id]; ok && now.Sub(t) < p.o.Interval {
		return false
	}
	if now.Sub(p.window) >= time.Minute {
		p.window, p.used = now, 0
	}
	if p.used >= p.o.PerMinute {
		return false
	}
	if len(p.last) >= maxPlanIDs {
		for k, t := range p.last {
			if now.Sub(t) >= p.o.Interval {
				delete(p.last, k)
			}
		}
		if len(p.last) >= maxPlanIDs {
			p.last = map[string]time.Time{}
		}
	}
	p.used++
	p.last[id] = now
	return true
}

// undo forgets a booked capture that could not be queued, so that the next slow statement of
// the query ID tries again.
func (p *planner) undo(id string) {
	p.mu.Lock()
	delete(p.last, id)
	p.used--
	p.mu.Unlock()
}

func (p *planner) run() {
	defer close(p.done)
	for j := range p.jobs {
		ctx, cancel := context.WithTimeout(context.Background(), p.o.Timeout)
		p.capture(ctx, j.id, j.e)
		cancel()
	}
}

// close lets the worker finish the queued captures and waits for it.
func (p *planner) close() {
	if p.jobs == nil {
		return
	}
	p.stop.Do(func() { close(p.jobs) })
	<-p.done
}
