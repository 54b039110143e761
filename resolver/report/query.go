package report

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Query is the context of one client query, in one value that can be part
// of a larger object: it carries a Report, as With does, and ends at a
// deadline, as context.WithDeadline does, or when End is called once the
// query is answered, never sooner (so Init sets the Report's
// UntilDeadline). Unlike WithDeadline it arms no timer until
// something waits for it to end (Done, or context.AfterFunc, which uses
// its AfterFunc): most queries are answered without waiting, from memory
// or by a cache fetch on their own goroutine that is bounded by Deadline,
// and context.WithTimeout cost each of them a timer and three objects.
//
// Use it by pointer, after Init, and End it once the query is answered.
type Query struct {
	rep      *Report
	deadline time.Time

	mu     sync.Mutex
	err    error         // set when the query ends
	done   chan struct{} // made by the first Done; closed when it ends
	timer  *time.Timer   // armed by the first wait
	afters []*after      // AfterFunc's functions not yet run
}

type after struct{ f func() }

// Init makes q the context of a query reporting into r that ends at
// deadline. r's UntilDeadline is set.
func (q *Query) Init(r *Report, deadline time.Time) {
	*q = Query{rep: r, deadline: deadline}
	r.UntilDeadline = true
}

// Deadline, Done, Err and Value make *Query a context.Context.
func (q *Query) Deadline() (time.Time, bool) { return q.deadline, true }

func (q *Query) Done() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done == nil {
		q.done = make(chan struct{})
		if q.err != nil {
			close(q.done)
		}
		q.armLocked()
	}
	return q.done
}

func (q *Query) Err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err == nil && !time.Now().Before(q.deadline) {
		q.endLocked(context.DeadlineExceeded)
	}
	return q.err
}

func (q *Query) Value(k any) any {
	if _, ok := k.(key); ok {
		return q.rep
	}
	return nil
}

// AfterFunc runs f on a goroutine of its own once q ends, unless stop is
// called first (stop reports whether it prevented f). context.AfterFunc
// and context.WithCancel use it, rather than a goroutine waiting on Done.
func (q *Query) AfterFunc(f func()) (stop func() bool) {
	a := &after{f}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		go f()
		return func() bool { return false }
	}
	q.afters = append(q.afters, a)
	q.armLocked()
	return func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		i := slices.Index(q.afters, a)
		if i < 0 {
			return false
		}
		q.afters = slices.Delete(q.afters, i, i+1)
		return true
	}
}

// End ends q (Err is context.Canceled unless its deadline passed) and
// stops its timer.
func (q *Query) End() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.timer != nil {
		q.timer.Stop()
	}
	q.endLocked(context.Canceled)
}

// armLocked starts the timer that ends q at its deadline, once.
func (q *Query) armLocked() {
	if q.timer != nil || q.err != nil {
		return
	}
	d := time.Until(q.deadline)
	if d <= 0 {
		q.endLocked(context.DeadlineExceeded)
		return
	}
	q.timer = time.AfterFunc(d, q.expire)
}

func (q *Query) expire() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.endLocked(context.DeadlineExceeded)
}

func (q *Query) endLocked(err error) {
	if q.err != nil {
		return
	}
	q.err = err
	if q.done != nil {
		close(q.done)
	}
	for _, a := range q.afters {
		go a.f()
	}
	q.afters = nil
}
