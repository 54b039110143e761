package main

import (
	"fmt"
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

// Memory goes back at the first quiet check after activity, once per
// quiet spell, and again after the next busy spell: the totals below are
// what allocated reads at the start and at each tick.
func TestMemoryGoesBackOncePerQuietSpell(t *testing.T) {
	const mib = 1 << 20
	totals := []uint64{
		100 * mib,            // start
		200 * mib, 300 * mib, // busy, busy
		301 * mib,            // quiet: give back
		302 * mib, 303 * mib, // still quiet: nothing more
		310 * mib,            // busy again
		311 * mib,            // quiet: give back
		311*mib + quietAlloc, // exactly quietAlloc is busy
		311*mib + quietAlloc, // quiet: give back
	}
	want := []int{3, 7, 9} // ticks (1-based) at which memory goes back
	ticks := make(chan time.Time)
	var read int
	allocated := func() uint64 { read++; return totals[read-1] }
	var got []int
	done := make(chan struct{})
	go func() {
		defer close(done)
		returnWhenQuiet(ticks, allocated, func() { got = append(got, read-1) })
	}()
	for range len(totals) - 1 {
		ticks <- time.Time{}
	}
	close(ticks)
	<-done
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("memory given back at ticks %v, want %v", got, want)
	}
}
