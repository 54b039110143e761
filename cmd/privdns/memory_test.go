package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// The heap of a server of large zones may grow by a quarter of its live
// data between collections, one of small zones by 64 MiB.
func TestGCPercentFollowsTheLiveHeap(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 100}, {8 << 20, 800}, {64 << 20, 100}, {128 << 20, 50}, {180 << 20, 35}, {256 << 20, 25}, {4 << 30, 25},
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// The server goes quiet at the first quiet check after activity, once per
// quiet spell, and busy at the first busy check after that: busy is
// quietAlloc allocated or quietCPU used since the last check. The
// activity below is what done reads at the start and at each tick.
func TestQuietAndBusyOncePerSpell(t *testing.T) {
	const mib = 1 << 20
	ms := time.Millisecond
	so := []activity{
		{100 * mib, 0},                 // start
		{200 * mib, 0}, {300 * mib, 0}, // busy, busy
		{301 * mib, 10 * ms},                       // 3: quiet
		{302 * mib, 20 * ms},                       // still quiet: nothing more
		{303 * mib, 30 * ms},                       //
		{310 * mib, 40 * ms},                       // 6: busy again (allocation)
		{311 * mib, 50 * ms},                       // 7: quiet
		{311*mib + quietAlloc, 60 * ms},            // 8: exactly quietAlloc is busy
		{311*mib + quietAlloc, 70 * ms},            // 9: quiet
		{311*mib + quietAlloc, 70*ms + quietCPU},   // 10: busy on CPU alone (ready-packed replies allocate nothing)
		{311*mib + quietAlloc, 80*ms + 2*quietCPU}, // still busy
		{311*mib + quietAlloc, 90*ms + 2*quietCPU}, // 12: quiet
	}
	want := "[quiet@3 busy@6 quiet@7 busy@8 quiet@9 busy@10 quiet@12]"
	ticks := make(chan time.Time)
	var read int
	done := func() activity { read++; return so[read-1] }
	var got []string
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		returnWhenQuiet(ticks, nil, done,
			func() { got = append(got, fmt.Sprintf("quiet@%d", read-1)) },
			func() { got = append(got, fmt.Sprintf("busy@%d", read-1)) })
	}()
	for range len(so) - 1 {
		ticks <- time.Time{}
	}
	close(ticks)
	<-finished
	if fmt.Sprint(got) != want {
		t.Errorf("changes %v, want %s", got, want)
	}
}

// A word from a collection during a quiet spell makes the server busy at
// once, not at the next check; once busy, further words change nothing.
func TestWokenByACollectionWhileQuiet(t *testing.T) {
	const mib = 1 << 20
	ticks, woken := make(chan time.Time), make(chan struct{})
	so := activity{alloc: 100 * mib}
	done := func() activity { return so } // the same: quiet at every tick
	changes := make(chan string, 8)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		returnWhenQuiet(ticks, woken, done, func() { changes <- "quiet" }, func() { changes <- "busy" })
	}()
	woken <- struct{}{} // busy already (the start): nothing
	ticks <- time.Time{}
	if got := <-changes; got != "quiet" {
		t.Fatalf("first quiet tick: %s, want quiet", got)
	}
	woken <- struct{}{}
	if got := <-changes; got != "busy" {
		t.Fatalf("woken while quiet: %s, want busy", got)
	}
	woken <- struct{}{} // busy: nothing
	ticks <- time.Time{}
	if got := <-changes; got != "quiet" {
		t.Fatalf("the next quiet tick: %s, want quiet", got)
	}
	close(ticks)
	<-finished
	if len(changes) != 0 {
		t.Errorf("%d more changes; want none", len(changes))
	}
}

// A collection during a quiet spell wakes the server when quietAlloc or
// more was allocated within quietCheck, counted from the spell's start
// or, once that is older than quietCheck, from the first collection after.
func TestWakeWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := wakeWindow{t0, 0}
	steps := []struct {
		after time.Duration
		alloc uint64
		want  bool
	}{
		{time.Second, quietAlloc - 1, false},                  // not enough
		{2 * time.Second, quietAlloc, true},                   // enough, within quietCheck
		{quietCheck + time.Second, 2 * quietAlloc, false},     // too slow: a new window from here
		{quietCheck + 2*time.Second, 2*quietAlloc + 1, false}, // 1 byte in the new window
		{quietCheck + 3*time.Second, 3 * quietAlloc, true},    // quietAlloc within it
	}
	for i, s := range steps {
		if got := w.busy(t0.Add(s.after), s.alloc); got != s.want {
			t.Errorf("step %d (%v, %d bytes): busy %v, want %v", i, s.after, s.alloc, got, s.want)
		}
	}
}

// The process's CPU time is read (it grows while the process works).
func TestProcessCPUGrows(t *testing.T) {
	before := processCPU()
	for deadline := time.Now().Add(5 * time.Second); processCPU()-before < 20*time.Millisecond && time.Now().Before(deadline); {
		for i := 0; i < 1e6; i++ {
			_ = fmt.Sprint(i)
		}
	}
	if runtime.GOOS != "windows" && processCPU()-before < 20*time.Millisecond {
		t.Errorf("CPU time grew by %v while spinning, want it read", processCPU()-before)
	}
}

// A quiet server's heap may grow by a quarter only; a busy one's by the
// usual headroom again.
func TestQuietServerKeepsLittleHeadroom(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	goQuiet()
	if got := debug.SetGCPercent(100); got != quietPercent {
		t.Errorf("GC percent when quiet %d, want %d", got, quietPercent)
	}
	goBusy()
	// A test binary's live heap is a few MB: gcPercent gives it far more
	// than a quarter.
	if got := debug.SetGCPercent(100); got <= quietPercent {
		t.Errorf("GC percent when busy again %d, want the headroom back (over %d)", got, quietPercent)
	}
}
