package report

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitClosed fails t unless ch is closed within a generous bound (an
// event awaited, not a duration slept).
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not closed", what)
	}
}

func TestQueryCarriesItsReportAndDeadlineAndArmsNothingUnasked(t *testing.T) {
	var r Report
	var q Query
	deadline := time.Now().Add(time.Hour)
	q.Init(&r, deadline)
	if From(&q) != &r || !AtDeadline(&q) {
		t.Fatalf("From %p (want %p), AtDeadline %v: want the query's report, ending only at its deadline", From(&q), &r, AtDeadline(&q))
	}
	child, cancel := context.WithCancel(&q)
	defer cancel()
	if AtDeadline(child) || AtDeadline(context.Background()) {
		t.Error("a context that may be canceled sooner counts as ending at its deadline")
	}
	if d, ok := q.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("Deadline %v %v; want %v", d, ok, deadline)
	}
	cancel() // the child's Done armed q's timer: start over
	q.Init(&r, deadline)
	if q.Err() != nil || q.timer != nil {
		t.Errorf("Err %v, timer %v before anything waited; want nil, none armed", q.Err(), q.timer)
	}
	done := q.Done()
	if q.timer == nil {
		t.Fatal("Done armed no timer")
	}
	select {
	case <-done:
		t.Fatal("done an hour early")
	default:
	}
	q.End()
	waitClosed(t, done, "Done after End")
	if !errors.Is(q.Err(), context.Canceled) {
		t.Errorf("Err %v after End; want Canceled", q.Err())
	}
}

func TestQueryEndsAtItsDeadline(t *testing.T) {
	var q Query
	q.Init(&Report{}, time.Now().Add(-time.Millisecond))
	if !errors.Is(q.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err %v past the deadline, nothing armed; want DeadlineExceeded", q.Err())
	}
	waitClosed(t, q.Done(), "Done past the deadline")

	var soon Query
	soon.Init(&Report{}, time.Now().Add(20*time.Millisecond))
	waitClosed(t, soon.Done(), "Done at the deadline (the timer)")
	if !errors.Is(soon.Err(), context.DeadlineExceeded) {
		t.Errorf("Err %v; want DeadlineExceeded", soon.Err())
	}
	soon.End()
	if !errors.Is(soon.Err(), context.DeadlineExceeded) {
		t.Errorf("Err %v after a late End; want DeadlineExceeded kept", soon.Err())
	}
}

func TestQueryWorksWithTheContextPackage(t *testing.T) {
	var q Query
	q.Init(&Report{}, time.Now().Add(time.Hour))
	ran := make(chan struct{})
	context.AfterFunc(&q, func() { close(ran) })
	stopped := false
	stop := context.AfterFunc(&q, func() { stopped = true })
	if !stop() {
		t.Error("stop did not prevent a function not yet run")
	}
	child, cancel := context.WithCancel(&q)
	defer cancel()
	if From(child) != From(&q) {
		t.Error("a child context lost the report")
	}
	q.End()
	waitClosed(t, ran, "AfterFunc's function after End")
	waitClosed(t, child.Done(), "a child's Done after End")
	if stopped {
		t.Error("a stopped AfterFunc ran")
	}
	late := make(chan struct{})
	if stop := context.AfterFunc(&q, func() { close(late) }); stop() {
		t.Error("stop after the end reports it prevented the function")
	}
	waitClosed(t, late, "AfterFunc registered after the end")
}
