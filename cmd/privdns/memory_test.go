package main

import (
	"fmt"
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
// quiet spell, and busy at the first busy check after that: the totals
// below are what allocated reads at the start and at each tick.
func TestQuietAndBusyOncePerSpell(t *testing.T) {
	const mib = 1 << 20
	totals := []uint64{
		100 * mib,            // start
		200 * mib, 300 * mib, // busy, busy
		301 * mib,            // 3: quiet
		302 * mib, 303 * mib, // still quiet: nothing more
		310 * mib,            // 6: busy again
		311 * mib,            // 7: quiet
		311*mib + quietAlloc, // 8: exactly quietAlloc is busy
		311*mib + quietAlloc, // 9: quiet
	}
	want := "[quiet@3 busy@6 quiet@7 busy@8 quiet@9]"
	ticks := make(chan time.Time)
	var read int
	allocated := func() uint64 { read++; return totals[read-1] }
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		returnWhenQuiet(ticks, allocated,
			func() { got = append(got, fmt.Sprintf("quiet@%d", read-1)) },
			func() { got = append(got, fmt.Sprintf("busy@%d", read-1)) })
	}()
	for range len(totals) - 1 {
		ticks <- time.Time{}
	}
	close(ticks)
	<-done
	if fmt.Sprint(got) != want {
		t.Errorf("changes %v, want %s", got, want)
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
