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
		returnWhenQuiet(ticks, done,
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
