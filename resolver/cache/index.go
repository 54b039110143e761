package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// index is the cache's LRU: the entries by key, the least recently used
// dropped first when it is full. It is built for the collector. A cold
// miss's p99 latency on one CPU is the mark phase, and an LRU of list
// elements, map buckets and entry objects is a dozen pointers and four
// objects per entry for it to visit on every cycle (8 ms for 100,000
// entries against 1 ms without them, on this project's machine). Here
// the slots live in chunks that never move, each holding its key and
// entry by value and its place in the recency list as slot numbers, and
// the table is an open-addressed array of slot numbers, each beside the
// low half of its key's hash, so that probing and moving entries read no
// slot whose key cannot match (a cold miss's lookup is then one cache
// line of the table, not one per probe): what the
// collector visits per entry is the name's bytes and the message's, two
// objects without pointers of their own.
//
// A slot's generation counts the entries it has held; a ref remembers one,
// so a reader learns whether the entry it was given is still the one
// kept (report.Freshness.Current) without the index keeping an object per
// entry for it.
//
// Every method takes the lock: a hit moves its entry to the front.
type index struct {
	mu     sync.Mutex
	chunks [][]slot // slot s is chunks[s>>chunkBits][s&chunkMask]; slot 0 is the list's sentinel
	table  []place  // by hash, 0 = empty; linear probing, at most half full
	used   int32    // slots handed out so far (the sentinel included)
	free   int32    // the first free slot, linked by next; 0 = none
	n, max int
	seed   maphash.Seed
	hash   func(key) uint64 // nil: hashOf (tests force collisions)
}

const (
	chunkBits = 10
	chunkMask = 1<<chunkBits - 1
)

// slot holds one entry. A free slot keeps only its generation.
type slot struct {
	k          key
	e          entry
	hash       uint64
	prev, next int32         // the recency list, most recent after the sentinel
	gen        atomic.Uint64 // bumped when the entry leaves: evicted, replaced, flushed, purged
	prefetched bool          // latch: one prefetch per entry, not one per hit
}

// place is a table entry: a slot number (never 0, the sentinel's, so a
// place is 0 only when empty) and the low 32 bits of its key's hash, which
// place it in the table and tell most other keys apart without the slot.
type place uint64

func placeOf(s int32, h uint64) place { return place(uint32(h))<<32 | place(uint32(s)) }
func (p place) slot() int32           { return int32(uint32(p)) }
func (p place) tag() uint32           { return uint32(p >> 32) }

// ref names the entry a slot held when it was read.
type ref struct {
	sl *slot
	at uint64 // the slot's generation then
}

// current reports whether the slot still holds that entry.
func (r ref) current() bool { return r.sl != nil && r.sl.gen.Load() == r.at }

func newIndex(max int) *index {
	x := &index{max: max, seed: maphash.MakeSeed()}
	x.reset()
	return x
}

func (x *index) reset() {
	if len(x.chunks) == 0 {
		x.chunks = [][]slot{make([]slot, 1<<chunkBits)}
	}
	x.table = make([]place, 64)
	x.used, x.free, x.n = 1, 0, 0
	s := x.at(0)
	s.prev, s.next = 0, 0
}

func (x *index) at(s int32) *slot { return &x.chunks[s>>chunkBits][s&chunkMask] }

func (x *index) hashOf(k key) uint64 {
	if x.hash != nil {
		return x.hash(k)
	}
	h := maphash.String(x.seed, k.name)
	h ^= maphash.String(x.seed, k.route) * 0x9e3779b97f4a7c15
	h ^= uint64(k.qtype)<<32 | uint64(k.qclass)<<16
	if k.do {
		h ^= 1 << 1
	}
	if k.cd {
		h ^= 1 << 2
	}
	// Mixed (murmur3's finalizer): the table places and tells keys apart
	// by the low half, and A, AAAA and HTTPS of a name differ above it.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// find returns k's slot and its place in the table, or slot 0 and the
// empty place where k would go.
func (x *index) find(k key, h uint64) (s int32, pos int) {
	mask := len(x.table) - 1
	for i := int(uint32(h)) & mask; ; i = (i + 1) & mask {
		p := x.table[i]
		if p == 0 {
			return 0, i
		}
		if p.tag() != uint32(h) {
			continue
		}
		if s := p.slot(); x.at(s).hash == h && x.at(s).k == k {
			return s, i
		}
	}
}

// get returns k's entry and marks it the most recently used.
func (x *index) get(k key) (entry, ref, bool) {
	h := x.hashOf(k)
	x.mu.Lock()
	defer x.mu.Unlock()
	s, _ := x.find(k, h)
	if s == 0 {
		return entry{}, ref{}, false
	}
	x.unlink(s)
	x.pushFront(s)
	sl := x.at(s)
	return sl.e, ref{sl, sl.gen.Load()}, true
}

// peek returns k's entry without changing its recency.
func (x *index) peek(k key) (entry, ref, bool) {
	h := x.hashOf(k)
	x.mu.Lock()
	defer x.mu.Unlock()
	s, _ := x.find(k, h)
	if s == 0 {
		return entry{}, ref{}, false
	}
	sl := x.at(s)
	return sl.e, ref{sl, sl.gen.Load()}, true
}

// add keeps e for k, the most recently used; an entry k had is replaced,
// and when the index is full the least recently used one goes.
func (x *index) add(k key, e entry) {
	h := x.hashOf(k)
	x.mu.Lock()
	defer x.mu.Unlock()
	if s, _ := x.find(k, h); s != 0 {
		sl := x.at(s)
		sl.gen.Add(1)
		sl.e, sl.prefetched = e, false
		x.unlink(s)
		x.pushFront(s)
		return
	}
	if x.n >= x.max {
		x.remove(x.at(0).prev)
	}
	if 2*(x.n+1) > len(x.table) {
		x.grow()
	}
	s := x.alloc()
	sl := x.at(s)
	sl.k, sl.e, sl.hash, sl.prefetched = k, e, h, false
	_, pos := x.find(k, h)
	x.table[pos] = placeOf(s, h)
	x.pushFront(s)
	x.n++
}

// latch reports whether r's entry is still kept and had no prefetch yet,
// and marks it prefetched.
func (x *index) latch(r ref) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !r.current() || r.sl.prefetched {
		return false
	}
	r.sl.prefetched = true
	return true
}

// removeIf drops every entry whose key match accepts and returns how many.
func (x *index) removeIf(match func(key) bool) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for s := x.at(0).next; s != 0; {
		next := x.at(s).next
		if match(x.at(s).k) {
			x.remove(s)
			n++
		}
		s = next
	}
	return n
}

// purge drops every entry. The chunks stay for the entries to come.
func (x *index) purge() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for s := int32(1); s < x.used; s++ {
		sl := x.at(s)
		sl.gen.Add(1)
		sl.k, sl.e = key{}, entry{}
	}
	x.reset()
}

func (x *index) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.n
}

// remove drops slot s's entry and frees the slot.
func (x *index) remove(s int32) {
	sl := x.at(s)
	mask := len(x.table) - 1
	i := int(uint32(sl.hash)) & mask
	for x.table[i].slot() != s {
		i = (i + 1) & mask
	}
	// Backward-shift deletion: every later entry of the run that may sit
	// at i (its home is not cyclically within (i, j]) moves up, so probes
	// never meet a hole before their key.
	for j := (i + 1) & mask; x.table[j] != 0; j = (j + 1) & mask {
		home := int(x.table[j].tag()) & mask
		if (j-home)&mask >= (j-i)&mask {
			x.table[i] = x.table[j]
			i = j
		}
	}
	x.table[i] = 0
	x.unlink(s)
	sl.gen.Add(1)
	sl.k, sl.e = key{}, entry{}
	sl.next = x.free
	x.free = s
	x.n--
}

func (x *index) alloc() int32 {
	if s := x.free; s != 0 {
		x.free = x.at(s).next
		return s
	}
	s := x.used
	if int(s>>chunkBits) == len(x.chunks) {
		x.chunks = append(x.chunks, make([]slot, 1<<chunkBits))
	}
	x.used++
	return s
}

// grow doubles the table and places every entry again.
func (x *index) grow() {
	old := x.table
	x.table = make([]place, 2*len(old))
	mask := len(x.table) - 1
	for _, p := range old {
		if p == 0 {
			continue
		}
		i := int(p.tag()) & mask
		for x.table[i] != 0 {
			i = (i + 1) & mask
		}
		x.table[i] = p
	}
}

func (x *index) unlink(s int32) {
	sl := x.at(s)
	x.at(sl.prev).next = sl.next
	x.at(sl.next).prev = sl.prev
}

func (x *index) pushFront(s int32) {
	head := x.at(0)
	sl := x.at(s)
	sl.prev, sl.next = 0, head.next
	x.at(head.next).prev = s
	head.next = s
}
