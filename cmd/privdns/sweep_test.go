package main

import (
	"runtime"
	"testing"
	"time"
)

// With one P, a collection starts the poller, which stops the world
// while the sweep may last and then ends; with more Ps the runtime polls
// the network itself and no poller starts. (What it is for, the latency
// of queries ready during a sweep, is measured by .ci/bench-scale.)
func TestAPollerRunsWhileTheHeapIsSweptOnOneP(t *testing.T) {
	watchSweeps()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	waitIdle := func() {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); sweepPoller.Load(); {
			if time.Now().After(deadline) {
				t.Fatal("the poller never ended")
			}
			time.Sleep(time.Millisecond) // waiting for the poller's end, not timing it
		}
	}
	waitIdle()
	before := sweepPolls.Load()
	runtime.GC()
	runtime.GC() // the finalizer of the first cycle has run by the second's end
	waitIdle()
	if n := sweepPolls.Load() - before; n != 0 {
		t.Fatalf("%d polls with 2 Ps; want none", n)
	}
	runtime.GOMAXPROCS(1)
	runtime.GC()
	runtime.GC()
	for deadline := time.Now().Add(10 * time.Second); sweepPolls.Load() == before; {
		if time.Now().After(deadline) {
			t.Fatal("no poll after collections with one P")
		}
		time.Sleep(time.Millisecond)
	}
	waitIdle() // and it ends
}
