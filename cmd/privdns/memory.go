package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
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
//     one of small zones collects every 64 MiB allocated;
//   - once the server has gone quiet (less than 4 MiB allocated and less
//     than 0.2 s of CPU used in 10 s), the heap is collected and its free
//     memory given back, and until it is busy again the heap may grow by a
//     quarter of the live data only:
//     the headroom is for load, and an idle server should not hold 64 MiB
//     of garbage. It is busy again at the first check that says so, or at
//     the first collection after it allocated quietAlloc within
//     quietCheck, whichever comes first: with a quarter of 24 MB as
//     headroom, a server back under cold misses collected five times a
//     second until the check came, and its p99 went from 0.3 to 6 ms. (Go's background scavenger would not give it back: with
//     GOGC lowered and a collection, the free memory stayed.) Giving back
//     stops the process for about 3 ms per 40 MB on this project's
//     machine, once per quiet spell. The CPU counts because a server
//     answering only ready-packed replies allocates nothing: without it,
//     one answering 100,000 of them a second counted as quiet and was
//     collected under load (where the system gives no process CPU time,
//     only allocation counts).
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
		go returnWhenQuiet(time.NewTicker(quietCheck).C, woken, activitySoFar, goQuiet, goBusy)
	})
}

// A server is quiet when it allocated less than quietAlloc and used less
// than quietCPU in quietCheck.
const (
	quietCheck = 10 * time.Second
	quietAlloc = 4 << 20
	quietCPU   = 200 * time.Millisecond
)

// activity is what the process has done so far: bytes allocated on the
// heap and CPU time used.
type activity struct {
	alloc uint64
	cpu   time.Duration
}

// quiet tells, from the activity so far read at every check, when the
// server goes quiet and when it is busy again.
type quiet struct {
	last  activity
	still bool // quiet at the last check
}

// change is what a check found.
type change int

const (
	same    change = iota
	toQuiet        // the first quiet check after activity
	toBusy         // the first busy check after a quiet one
)

// check takes the activity so far.
func (q *quiet) check(now activity) change {
	busy := now.alloc-q.last.alloc >= quietAlloc || now.cpu-q.last.cpu >= quietCPU
	q.last = now
	switch {
	case busy && q.still:
		q.still = false
		return toBusy
	case !busy && !q.still:
		q.still = true
		return toQuiet
	}
	return same
}

// returnWhenQuiet calls toQuiet at the first quiet tick of every quiet
// spell and toBusy at the first busy tick after one, or at the first word
// on woken during one, reading the activity so far with done. It runs for
// the life of the process (until ticks is closed).
func returnWhenQuiet(ticks <-chan time.Time, woken <-chan struct{}, done func() activity, onQuiet, onBusy func()) {
	q := quiet{last: done()}
	for {
		select {
		case _, ok := <-ticks:
			if !ok {
				return
			}
			switch q.check(done()) {
			case toQuiet:
				onQuiet()
			case toBusy:
				onBusy()
			}
		case <-woken:
			if q.still {
				q.still, q.last = false, done()
				onBusy()
			}
		}
	}
}

// woken tells returnWhenQuiet that a collection found a quiet server
// allocating again (wakeWindow).
var woken = make(chan struct{}, 1)

// wakeWindow tells, from the collections of a quiet server, when it
// allocates again: quietAlloc or more within quietCheck.
type wakeWindow struct {
	start time.Time
	alloc uint64 // allocated so far at start
}

// busy takes a collection's time and the bytes allocated so far.
func (w *wakeWindow) busy(now time.Time, alloc uint64) bool {
	if alloc-w.alloc >= quietAlloc && now.Sub(w.start) < quietCheck {
		return true
	}
	if now.Sub(w.start) >= quietCheck {
		*w = wakeWindow{now, alloc}
	}
	return false
}

var (
	window   wakeWindow // onGC's; goQuiet starts it
	windowMu sync.Mutex
	gcAlloc  = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}} // onGC's
)

// allocatedSoFar reads the bytes allocated so far into sample.
func allocatedSoFar(sample []metrics.Sample) uint64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		return sample[0].Value.Uint64()
	}
	return 0
}

// quietPercent is the GC percent of a quiet server.
const quietPercent = 25

// isQuiet is set while the server is quiet (retune reads it).
var isQuiet atomic.Bool

func goQuiet() {
	isQuiet.Store(true)
	retune()
	debug.FreeOSMemory() // a full collection, then the free memory goes back
	windowMu.Lock()
	window = wakeWindow{time.Now(), allocatedSoFar(gcAlloc)}
	windowMu.Unlock()
}

func goBusy() {
	isQuiet.Store(false)
	retune()
}

var allocSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

// activitySoFar is the bytes allocated on the heap and the CPU time used
// since the process started. Only returnWhenQuiet's goroutine reads
// allocSample. (The runtime's own CPU metrics are updated only by
// collections, which a server that does not allocate never has.)
func activitySoFar() activity {
	return activity{cpu: processCPU(), alloc: allocatedSoFar(allocSample)}
}

type gcSentinel struct{ _ byte } // not zero-sized: those may never be finalized

func onGC(s *gcSentinel) {
	if isQuiet.Load() {
		windowMu.Lock()
		busy := window.busy(time.Now(), allocatedSoFar(gcAlloc))
		windowMu.Unlock()
		if busy {
			select {
			case woken <- struct{}{}:
			default: // one word is enough
			}
		}
	}
	retune()
	runtime.SetFinalizer(s, onGC) // again after the next cycle
}

var liveSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
var liveMu sync.Mutex

func retune() {
	liveMu.Lock()
	defer liveMu.Unlock()
	metrics.Read(liveSample)
	switch {
	case isQuiet.Load():
		debug.SetGCPercent(quietPercent)
	case liveSample[0].Value.Kind() == metrics.KindUint64:
		debug.SetGCPercent(gcPercent(liveSample[0].Value.Uint64()))
	}
}
