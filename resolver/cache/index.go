package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// index is the cache's LRU: the entries by key, the least recently used
// dropped first when it is full. It is built for the collector. A cold
// miss's p99 latency on one CPU is the mark phase, and an LRU of list
// elements, map buckets and entry objects is a dozen pointers and four
// objects per entry for it to visit on every cycle (8 ms for 100,000
// entries against 1 ms without them, on this project's machine). Here
// nothing per entry holds a pointer: the slots live in chunks that never
// move, each holding its entry's key and times by value and its place in
// the recency list as slot numbers; the name and the message are bytes in
// the arena (routes, few, are interned); the table is an open-addressed
// array of slot numbers, each beside the low half of its key's hash, so
// that probing and moving entries read no slot whose key cannot match (a
// cold miss's lookup is then one cache line of the table, not one per
// probe). What the collector visits is a few objects per 1,024 entries.
//
// A slot's generation counts the entries it has held; a ref remembers one,
// so a reader learns whether the entry it was given is still the one
// kept (report.Freshness.Current) without the index keeping an object per
// entry for it. An entry read out of the index is a copy: its message
// bytes are the reader's (the arena's block may hold another's next).
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

	bytes    arena
	big      map[int32][]byte   // the bytes of slots too large for the arena
	fails    map[int32]*failure // the failures slots remember (rare)
	routes   []string           // interned: a slot holds its route's number
	routeIDs map[string]uint32
}

const (
	chunkBits = 10
	chunkMask = 1<<chunkBits - 1
)

// slot holds one entry, without pointers. A free slot keeps only its
// generation.
type slot struct {
	hash       uint64
	stored     int64 // unix nanoseconds
	ttl        time.Duration
	gen        atomic.Uint64 // bumped when the entry leaves: evicted, replaced, flushed, purged
	block      block         // the name, then the message; in big when onHeap
	msgLen     uint32
	route      uint32
	prev, next int32 // the recency list, most recent after the sentinel
	qtype      uint16
	qclass     uint16
	nameLen    uint16 // a name in presentation form: escapes make it longer than 255
	do, cd     bool
	msg        bool // holds a message (a bare failure does not)
	failing    bool // fails holds its failure
	onHeap     bool
	prefetched bool // latch: one prefetch per entry, not one per hit
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
	x := &index{max: max, seed: maphash.MakeSeed(), routeIDs: map[string]uint32{}}
	x.reset()
	return x
}

func (x *index) reset() {
	if len(x.chunks) == 0 {
		x.chunks = [][]slot{make([]slot, 1<<chunkBits)}
	}
	x.table = make([]place, 64)
	x.used, x.free, x.n = 1, 0, 0
	x.bytes.reset()
	x.big, x.fails = nil, nil
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
		if s := p.slot(); x.matches(s, k, h) {
			return s, i
		}
	}
}

// matches reports whether slot s holds k (whose hash is h).
func (x *index) matches(s int32, k key, h uint64) bool {
	sl := x.at(s)
	return sl.hash == h && sl.qtype == k.qtype && sl.qclass == k.qclass && sl.do == k.do && sl.cd == k.cd &&
		int(sl.nameLen) == len(k.name) && x.routes[sl.route] == k.route && string(x.name(s)) == k.name
}

// raw is slot s's bytes, in place: the name, then the message.
func (x *index) raw(s int32) []byte {
	sl := x.at(s)
	if sl.onHeap {
		return x.big[s]
	}
	return x.bytes.bytes(sl.block, int(sl.nameLen)+int(sl.msgLen))
}

func (x *index) name(s int32) []byte { return x.raw(s)[:x.at(s).nameLen] }

// keyOf is slot s's key, made anew (Flush).
func (x *index) keyOf(s int32) key {
	sl := x.at(s)
	return key{name: string(x.name(s)), route: x.routes[sl.route], qtype: sl.qtype, qclass: sl.qclass, do: sl.do, cd: sl.cd}
}

// entryOf is slot s's entry, its message copied when withMsg.
func (x *index) entryOf(s int32, withMsg bool) entry {
	sl := x.at(s)
	e := entry{stored: time.Unix(0, sl.stored), ttl: sl.ttl, msg: sl.msg}
	if sl.failing {
		e.fail = x.fails[s]
	}
	if withMsg && sl.msg {
		e.wire = append([]byte(nil), x.raw(s)[sl.nameLen:]...)
	}
	return e
}

// fill makes slot s hold k and e (its hash h).
func (x *index) fill(s int32, k key, h uint64, e entry) {
	sl := x.at(s)
	sl.hash, sl.qtype, sl.qclass, sl.do, sl.cd = h, k.qtype, k.qclass, k.do, k.cd
	sl.stored, sl.ttl, sl.msg, sl.prefetched = e.stored.UnixNano(), e.ttl, e.msg, false
	sl.nameLen, sl.msgLen = uint16(len(k.name)), uint32(len(e.wire))
	id, ok := x.routeIDs[k.route]
	if !ok {
		id = uint32(len(x.routes))
		x.routes = append(x.routes, k.route)
		x.routeIDs[k.route] = id
	}
	sl.route = id
	n := len(k.name) + len(e.wire)
	b, ok := block(0), n <= maxBlock
	if ok {
		b, ok = x.bytes.alloc(n)
	}
	var dst []byte
	if ok {
		sl.block, sl.onHeap = b, false
		dst = x.bytes.bytes(b, n)
	} else {
		if x.big == nil {
			x.big = map[int32][]byte{}
		}
		dst = make([]byte, n)
		x.big[s], sl.onHeap = dst, true
	}
	copy(dst[copy(dst, k.name):], e.wire)
	sl.failing = e.fail != nil
	if sl.failing {
		if x.fails == nil {
			x.fails = map[int32]*failure{}
		}
		x.fails[s] = e.fail
	}
}

// empty gives back what slot s holds (its bytes, its failure).
func (x *index) empty(s int32) {
	sl := x.at(s)
	if sl.onHeap {
		delete(x.big, s)
	} else {
		x.bytes.release(sl.block)
	}
	if sl.failing {
		delete(x.fails, s)
	}
	sl.onHeap, sl.failing, sl.msg = false, false, false
}

// get returns k's entry, its message copied, and marks it the most
// recently used.
func (x *index) get(k key) (entry, ref, bool) { return x.read(k, true, true) }

// peek returns k's entry without changing its recency, its message copied
// when withMsg (else its wire is nil, and msg tells whether it has one).
func (x *index) peek(k key, withMsg bool) (entry, ref, bool) { return x.read(k, false, withMsg) }

func (x *index) read(k key, touch, withMsg bool) (entry, ref, bool) {
	h := x.hashOf(k)
	x.mu.Lock()
	defer x.mu.Unlock()
	s, _ := x.find(k, h)
	if s == 0 {
		return entry{}, ref{}, false
	}
	if touch {
		x.unlink(s)
		x.pushFront(s)
	}
	sl := x.at(s)
	return x.entryOf(s, withMsg), ref{sl, sl.gen.Load()}, true
}

// add keeps e for k, the most recently used; an entry k had is replaced,
// and when the index is full the least recently used one goes. The
// index copies e's bytes: e.wire stays the caller's.
func (x *index) add(k key, e entry) {
	h := x.hashOf(k)
	x.mu.Lock()
	defer x.mu.Unlock()
	if s, _ := x.find(k, h); s != 0 {
		sl := x.at(s)
		sl.gen.Add(1)
		x.empty(s)
		x.fill(s, k, h, e)
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
	x.fill(s, k, h, e)
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
		if match(x.keyOf(s)) {
			x.remove(s)
			n++
		}
		s = next
	}
	return n
}

// purge drops every entry. The chunks stay for the entries to come; the
// arena's pages go.
func (x *index) purge() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for s := int32(1); s < x.used; s++ {
		sl := x.at(s)
		sl.gen.Add(1)
		sl.onHeap, sl.failing, sl.msg = false, false, false
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
	x.empty(s)
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
