package resolvertest

import (
	"runtime"
	"time"
)

// Footprint is the process's goroutines and live heap at one moment,
// after a garbage collection.
type Footprint struct {
	Goroutines int
	HeapAlloc  uint64 // bytes of live heap objects
}

// Measure collects garbage (twice, so sync.Pool's victim cache goes too)
// and reads the footprint.
func Measure() Footprint {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Footprint{Goroutines: runtime.NumGoroutine(), HeapAlloc: ms.HeapAlloc}
}

// SettleTB is what Settle needs of a test.
type SettleTB interface {
	TB
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// Settle measures the footprint now and, when the test ends (after the
// cleanups registered later, which stop the servers it starts), checks
// that goroutines come back to that count and the heap to within
// heapSlack bytes of it: a hostile upstream must leave nothing behind.
// Goroutines end on their own schedule after a socket closes, so the
// check polls for up to wait before it fails; it never waits for timing.
// It returns the footprint measured at the start.
func Settle(tb SettleTB, heapSlack uint64, wait time.Duration) Footprint {
	tb.Helper()
	before := Measure()
	tb.Cleanup(func() {
		after, deadline := Measure(), time.Now().Add(wait)
		for (after.Goroutines > before.Goroutines || after.HeapAlloc > before.HeapAlloc+heapSlack) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // poll: goroutines of closed sockets are on their way out
			after = Measure()
		}
		tb.Logf("footprint: goroutines %d → %d, heap %d KiB → %d KiB",
			before.Goroutines, after.Goroutines, before.HeapAlloc>>10, after.HeapAlloc>>10)
		if after.Goroutines > before.Goroutines {
			buf := make([]byte, 1<<20)
			tb.Errorf("goroutines: %d at the start, %d at the end:\n%s", before.Goroutines, after.Goroutines, buf[:runtime.Stack(buf, true)])
		}
		if after.HeapAlloc > before.HeapAlloc+heapSlack {
			tb.Errorf("heap: %d KiB at the start, %d KiB at the end (slack %d KiB)", before.HeapAlloc>>10, after.HeapAlloc>>10, heapSlack>>10)
		}
	})
	return before
}
