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
// query is answered, never sooner (AtDeadline). Unlike WithDeadline it
// arms no timer until
// something waits for it to end (Done, or context.AfterFunc, which uses
// its AfterFunc): most queries are answered without waiting, from memory
// or by a cache fetch on their own goroutine that is bounded by Deadline,
// and context.WithTimeout cost each of them a timer and three objects.
//
// Use it by pointer, after Init, and End it once the query is answered.
type Query struct {
	rep *Report
	ending
}

// Init makes q the context of a query reporting into r that ends at
// deadline.
func (q *Query) Init(r *Report, deadline time.Time) {
	*q = Query{rep: r}
	q.deadline = deadline
}

// Deadline, Done, Err (ending's) and Value make *Query a context.Context.
func (q *Query) Deadline() (time.Time, bool) { return q.deadline, true }

func (q *Query) Value(k any) any {
	if _, ok := k.(key); ok {
		return q.rep
	}
	return nil
}

// AtDeadline reports whether ctx, while work runs for it, ends only at its
// deadline, if it has one: it is a query's (Query, which ends sooner only
// once the query is answered) or detached (Detached). Work ctx waits for
// may then run on ctx's goroutine, bounded by Deadline, and a socket whose
// deadline is ctx's needs nobody watching Done. A context derived from
// either may be canceled sooner, and is not.
func AtDeadline(ctx context.Context) bool {
	switch ctx.(type) {
	case *Query, *Detached:
		return true
	}
	return false
}

// ending is the end of a context at a deadline, armed lazily: no timer
// runs until something waits for it (Done, or context.AfterFunc, which
// uses AfterFunc). The zero value has no deadline set; set it before use.
type ending struct {
	deadline time.Time

	mu     sync.Mutex
	err    error         // set when it ends
	done   chan struct{} // made by the first Done; closed when it ends
	timer  *time.Timer   // armed by the first wait
	afters []*after      // AfterFunc's functions not yet run
}

type after struct{ f func() }

func (e *ending) Done() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done == nil {
		e.done = make(chan struct{})
		if e.err != nil {
			close(e.done)
		}
		e.armLocked()
	}
	return e.done
}

func (e *ending) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil && !time.Now().Before(e.deadline) {
		e.endLocked(context.DeadlineExceeded)
	}
	return e.err
}

// AfterFunc runs f on a goroutine of its own once the context ends, unless
// stop is called first (stop reports whether it prevented f).
// context.AfterFunc and context.WithCancel use it, rather than a goroutine
// waiting on Done.
func (e *ending) AfterFunc(f func()) (stop func() bool) {
	a := &after{f}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		go f()
		return func() bool { return false }
	}
	e.afters = append(e.afters, a)
	e.armLocked()
	return func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		i := slices.Index(e.afters, a)
		if i < 0 {
			return false
		}
		e.afters = slices.Delete(e.afters, i, i+1)
		return true
	}
}

// End ends the context now (Err is context.Canceled unless its deadline
// passed) and stops its timer.
func (e *ending) End() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.timer != nil {
		e.timer.Stop()
	}
	e.endLocked(context.Canceled)
}

// armLocked starts the timer that ends it at its deadline, once.
func (e *ending) armLocked() {
	if e.timer != nil || e.err != nil {
		return
	}
	d := time.Until(e.deadline)
	if d <= 0 {
		e.endLocked(context.DeadlineExceeded)
		return
	}
	e.timer = time.AfterFunc(d, e.expire)
}

func (e *ending) expire() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.endLocked(context.DeadlineExceeded)
}

func (e *ending) endLocked(err error) {
	if e.err != nil {
		return
	}
	e.err = err
	if e.done != nil {
		close(e.done)
	}
	for _, a := range e.afters {
		go a.f()
	}
	e.afters = nil
}
