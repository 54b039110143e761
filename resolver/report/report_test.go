package report

import (
	"context"
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
	var gone atomic.Bool
	f := Kept(time.Unix(10, 0), time.Unix(1, 0), 3, &gone)
	if !f.Kept || !f.Current() || f.Age != 3 {
		t.Fatalf("%+v: want kept and current", f)
	}
	gone.Store(true)
	if f.Current() {
		t.Error("current after its entry went")
	}
	var zero Freshness
	if zero.Current() || zero.Kept {
		t.Error("the zero Freshness is kept or current")
	}
}
