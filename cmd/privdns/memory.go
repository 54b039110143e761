package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

// Memory around loads. Loading zones allocates some three times what the
// zones keep (the parser's and the builder's scratch), Go keeps freed
// memory for a while, and with GOGC=100 the heap grows to twice the live
// data before it is collected again: for a million records, twice BIND's
// memory for the same files. So, unless the user set GOGC or GOMEMLIMIT
// (then the runtime does as told):
//
//   - the first load runs with GOGC=200: fewer collections while most of
//     what is allocated soon becomes garbage (a third less load time for a
//     million records, for a higher peak while it lasts);
//   - after every load the heap is collected and its free memory given
//     back to the system, and the heap may grow by max(64 MiB, live/4)
//     before the next collection: a server of large zones stays near its
//     live data, one of small zones keeps GOGC=100.
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
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	debug.SetGCPercent(gcPercent(m.HeapAlloc))
}

// gcPercent is the GC percent that lets a heap of live bytes grow by
// max(growth, live/4): between 25 and 100.
func gcPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	return int(min(100, max(25, 100*growth/live)))
}
