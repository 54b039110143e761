package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Memory around loads and between them. Loading zones allocates some
// three times what the zones keep (the parser's and the builder's
// scratch), Go keeps freed memory for a while, and with GOGC=100 the heap
// grows to twice the live data before it is collected again: for a
// million records, twice BIND's memory for the same files. A small heap
// has the opposite trouble: with GOGC=100 a server whose live data is 10
// MB collects every 10 MB allocated, several times a second under cold
// misses, and each collection's mark phase (10–50 ms on one CPU) is where
// its p99 latency went. So, unless the user set GOGC or GOMEMLIMIT (then
// the runtime does as told):
//
//   - the first load runs with GOGC=200: fewer collections while most of
//     what is allocated soon becomes garbage (a third less load time for a
//     million records, for a higher peak while it lasts);
//   - after every load the heap is collected and its free memory given
//     back to the system;
//   - from then on, after every collection, the heap may grow by
//     max(64 MiB, live/4) before the next one, live being what that
//     collection left: a server of large zones stays near its live data,
//     one of small zones collects every 64 MiB allocated.
//
// Sharp edge: the GC percent is process-wide; only cmd/privdns sets it.

// memoryTuned reports whether privdns tunes the collector.
func memoryTuned() bool { return os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" }

// firstLoadMemory prepares the collector for the first load.
func firstLoadMemory() {
	if memoryTuned() {
		debug.SetGCPercent(200)
	}
}

// growth is the least the heap may grow by between collections.
const growth = 64 << 20

// settleMemory runs once a load is in effect (or failed).
func settleMemory() {
	if !memoryTuned() {
		return
	}
	debug.SetGCPercent(100)
	debug.FreeOSMemory() // a full collection, then the free memory goes back
	tuneAfterEveryGC()
}

// gcPercent is the GC percent that lets a heap of live bytes grow by
// max(growth, live/4): 25 for a heap of 256 MiB or more.
func gcPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	return int(max(25, 100*growth/live))
}

var tuner sync.Once

// tuneAfterEveryGC sets the GC percent from the live heap now and after
// every collection from now on: a finalizer that sets it again for
// itself runs once per cycle.
func tuneAfterEveryGC() {
	retune()
	tuner.Do(func() {
		s := new(gcSentinel)
		runtime.SetFinalizer(s, onGC)
	})
}

type gcSentinel struct{ _ byte } // not zero-sized: those may never be finalized

func onGC(s *gcSentinel) {
	retune()
	runtime.SetFinalizer(s, onGC) // again after the next cycle
}

var liveSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
var liveMu sync.Mutex

func retune() {
	liveMu.Lock()
	defer liveMu.Unlock()
	metrics.Read(liveSample)
	if liveSample[0].Value.Kind() == metrics.KindUint64 {
		debug.SetGCPercent(gcPercent(liveSample[0].Value.Uint64()))
	}
}
