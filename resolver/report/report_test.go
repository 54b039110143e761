package report

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestDetachDropsTheReportAndTheCancellation(t *testing.T) {
	r := &Report{OnlyCached: true}
	ctx, cancel := context.WithCancel(With(context.Background(), r))
	if From(ctx) != r || !OnlyCached(ctx) {
		t.Fatal("the report is not carried")
	}
	bg := Detach(ctx)
	cancel()
	if From(bg) != nil || OnlyCached(bg) {
		t.Error("a detached context still carries the query's report")
	}
	if bg.Err() != nil {
		t.Error("a detached context is cancelled with the query")
	}
	if From(context.Background()) != nil || OnlyCached(context.Background()) {
		t.Error("a bare context has a report")
	}
}

func TestFreshnessIsCurrentUntilItsEntryIsGone(t *testing.T) {
	var gen atomic.Uint64
	gen.Store(7)
	f := Kept(time.Unix(10, 0), time.Unix(1, 0), 3, &gen, 7)
	if !f.Kept || !f.Current() || f.Age != 3 {
		t.Fatalf("%+v: want kept and current", f)
	}
	gen.Add(1) // the slot's next entry
	if f.Current() {
		t.Error("current after its entry went")
	}
	if g := Kept(time.Unix(10, 0), time.Unix(1, 0), 3, &gen, 8); !g.Current() {
		t.Error("the slot's next entry is not current")
	}
	var zero Freshness
	if zero.Current() || zero.Kept {
		t.Error("the zero Freshness is kept or current")
	}
}

func TestAGateAdmitsEachQueryOnceUpToItsMax(t *testing.T) {
	g := NewGate(2)
	a, b, c := &Report{Gate: g}, &Report{Gate: g}, &Report{Gate: g}
	ca, cb, cc := With(context.Background(), a), With(context.Background(), b), With(context.Background(), c)
	if !Wait(ca) || !Wait(ca) || !Wait(cb) {
		t.Fatal("two queries of a gate of 2 were refused")
	}
	if g.Waiting() != 2 {
		t.Fatalf("%d waiting, want 2: a query waiting twice takes one place", g.Waiting())
	}
	if Wait(cc) || !c.Refused() || a.Refused() {
		t.Fatal("a third query was let wait on a gate of 2, or the refusal was not remembered on it alone")
	}
	a.Release()
	a.Release() // a second release gives nothing back
	if g.Waiting() != 1 || !Wait(cc) {
		t.Fatalf("after one release: %d waiting, and the third could not wait", g.Waiting())
	}
	g.SetMax(1)
	if Wait(With(context.Background(), &Report{Gate: g})) {
		t.Error("a lowered gate still admitted")
	}
	if !Wait(context.Background()) || Wait(With(context.Background(), &Report{OnlyCached: true})) {
		t.Error("without a report a query must wait freely; with OnlyCached never")
	}
}

// A Detached context outlives its parent's cancellation and deadline,
// carries the parent's other values, and its own Report in place of the
// parent's.
func TestDetached(t *testing.T) {
	type other struct{}
	var waiter Report
	parent, cancel := context.WithTimeout(With(context.WithValue(context.Background(), other{}, "v"), &waiter), time.Millisecond)
	cancel()
	var d Detached
	d.Init(parent)
	if d.Done() != nil || d.Err() != nil {
		t.Errorf("Done %v, Err %v: want never canceled", d.Done(), d.Err())
	}
	if _, ok := d.Deadline(); ok {
		t.Error("has a deadline")
	}
	if got := From(&d); got != &d.Report {
		t.Errorf("From gives %p, want its own Report %p (the parent's is %p)", got, &d.Report, &waiter)
	}
	if got := d.Value(other{}); got != "v" {
		t.Errorf("parent's value %v, want v", got)
	}
	if !AtDeadline(&d) {
		t.Error("a detached context does not count as ending only at its deadline")
	}
	future := time.Now().Add(time.Hour)
	d.SetDeadline(future)
	if at, ok := d.Deadline(); !ok || !at.Equal(future) || d.Err() != nil || d.end.timer != nil {
		t.Errorf("deadline %v %v, Err %v, timer %v: want %v, no error yet, nothing armed", at, ok, d.Err(), d.end.timer, future)
	}
	// Contexts made from it end with it, at its deadline.
	var soon Detached
	soon.Init(parent)
	soon.SetDeadline(time.Now().Add(20 * time.Millisecond))
	child, cancel := context.WithTimeout(&soon, time.Hour)
	defer cancel()
	waitClosed(t, child.Done(), "a child's Done at its parent's deadline")
	waitClosed(t, soon.Done(), "Done at the deadline")
	if !errors.Is(soon.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Errorf("Err %v, the child's %v past the deadline; want DeadlineExceeded", soon.Err(), child.Err())
	}
	var ended Detached
	ended.Init(parent)
	ended.SetDeadline(future)
	done := ended.Done()
	ended.End()
	waitClosed(t, done, "Done after End")
	if !errors.Is(ended.Err(), context.Canceled) {
		t.Errorf("Err %v after End; want Canceled", ended.Err())
	}
}
