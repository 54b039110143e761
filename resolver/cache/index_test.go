package cache

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// modelLRU is the index's behaviour the plain way: keys most recent first.
type modelLRU struct {
	max   int
	order []key
	val   map[key]string
	refs  map[key]ref // the ref of the entry the model holds, once read
}

func (m *modelLRU) touch(k key) {
	i := slices.Index(m.order, k)
	m.order = append(m.order[:i], m.order[i+1:]...)
	m.order = append([]key{k}, m.order...)
}

func (m *modelLRU) drop(k key) {
	i := slices.Index(m.order, k)
	m.order = append(m.order[:i], m.order[i+1:]...)
	delete(m.val, k)
}

// TestIndexBehavesAsAnLRU runs random operations on the index and on a
// model, with the real hash and with hashes that collide for most keys,
// wholly or in their low half (so the probing, the tags and the
// backward-shift deletion are exercised), and
// checks every answer, the evictions, and that a reader's ref stays
// current exactly as long as its entry is kept.
func TestIndexBehavesAsAnLRU(t *testing.T) {
	hashes := map[string]func(key) uint64{
		"maphash":   nil,
		"colliding": func(k key) uint64 { return uint64(len(k.name) % 3) },
		"one value": func(key) uint64 { return 42 },
		// equal low halves (the table's tags), different hashes
		"same low half": func(k key) uint64 { return uint64(len(k.name)+int(k.qtype))<<32 | 7 },
	}
	for name, hash := range hashes {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(name))))
			for round := range 40 {
				max := 1 + rng.IntN(60)
				x := newIndex(max)
				x.hash = hash
				m := &modelLRU{max: max, val: map[key]string{}, refs: map[key]ref{}}
				var dead []ref // refs of entries the model no longer holds
				keys := make([]key, 90)
				for i := range keys {
					keys[i] = key{name: fmt.Sprintf("n%d.example.", i%45), qtype: uint16(1 + i/45), qclass: 1}
				}
				for op := range 600 {
					k := keys[rng.IntN(len(keys))]
					where := fmt.Sprintf("round %d op %d", round, op)
					switch rng.IntN(10) {
					case 0, 1, 2, 3:
						v := fmt.Sprintf("v%d", op)
						x.add(k, entry{wire: []byte(v), msg: true})
						if _, ok := m.val[k]; ok {
							m.touch(k)
							if r, ok := m.refs[k]; ok {
								dead = append(dead, r)
							}
						} else {
							if len(m.order) == max {
								last := m.order[len(m.order)-1]
								if r, ok := m.refs[last]; ok {
									dead = append(dead, r)
								}
								m.drop(last)
								delete(m.refs, last)
							}
							m.order = append([]key{k}, m.order...)
						}
						m.val[k] = v
						delete(m.refs, k)
					case 4, 5, 6:
						e, r, ok := x.get(k)
						want, kept := m.val[k]
						if ok != kept || (ok && string(e.wire) != want) {
							t.Fatalf("%s: get %v = %q %v; want %q %v", where, k, e.wire, ok, want, kept)
						}
						if ok {
							m.touch(k)
							if !r.current() {
								t.Fatalf("%s: the ref of an entry just read is not current", where)
							}
							m.refs[k] = r
						}
					case 7:
						e, _, ok := x.peek(k, true)
						want, kept := m.val[k]
						if ok != kept || (ok && string(e.wire) != want) {
							t.Fatalf("%s: peek %v = %q %v; want %q %v", where, k, e.wire, ok, want, kept)
						}
					case 8:
						n := x.removeIf(func(o key) bool { return o.name == k.name })
						want := 0
						for _, o := range slices.Clone(m.order) {
							if o.name == k.name {
								if r, ok := m.refs[o]; ok {
									dead = append(dead, r)
								}
								m.drop(o)
								delete(m.refs, o)
								want++
							}
						}
						if n != want {
							t.Fatalf("%s: removeIf %s dropped %d; want %d", where, k.name, n, want)
						}
					case 9:
						if rng.IntN(20) == 0 {
							x.purge()
							for _, r := range m.refs {
								dead = append(dead, r)
							}
							m.order, m.val, m.refs = nil, map[key]string{}, map[key]ref{}
						}
					}
					if x.len() != len(m.order) {
						t.Fatalf("%s: len %d; want %d", where, x.len(), len(m.order))
					}
					for k, r := range m.refs {
						if !r.current() {
							t.Fatalf("%s: the ref of %v, still kept, is not current", where, k)
						}
					}
					for _, r := range dead {
						if r.current() {
							t.Fatalf("%s: a ref of an entry gone is current", where)
						}
					}
				}
				// The recency order itself: once full, from the least
				// recent, each added key evicts the model's last.
				for i := range max - len(m.order) {
					x.add(key{name: fmt.Sprintf("filler-%d", i)}, entry{})
				}
				for _, want := range slices.Backward(m.order) {
					x.add(key{name: fmt.Sprintf("new-%s", want.name), qtype: want.qtype}, entry{})
					if _, _, ok := x.peek(want, true); ok {
						t.Fatalf("round %d: %v outlived a newer entry's arrival; want it the least recent", round, want)
					}
				}
			}
		})
	}
}

// TestIndexKeepsItsEntriesAcrossChunks fills an index of several chunks
// of slots, so that slots are handed out, freed and reused across them.
func TestIndexKeepsItsEntriesAcrossChunks(t *testing.T) {
	const max = 3*(1<<chunkBits) + 17
	x := newIndex(max)
	k := func(i int) key { return key{name: fmt.Sprintf("h%d.example.", i), qtype: 1, qclass: 1} }
	for i := range 2 * max {
		x.add(k(i), entry{wire: fmt.Appendf(nil, "%d", i), msg: true})
	}
	if x.len() != max {
		t.Fatalf("len %d; want %d", x.len(), max)
	}
	for i := range 2 * max {
		e, _, ok := x.peek(k(i), true)
		if ok != (i >= max) || (ok && string(e.wire) != fmt.Sprint(i)) {
			t.Fatalf("entry %d: %q %v; want it kept only among the last %d", i, e.wire, ok, max)
		}
	}
	if got := len(x.chunks); got != max/(1<<chunkBits)+1 {
		t.Errorf("%d chunks for %d entries; want %d: freed slots are reused", got, max, max/(1<<chunkBits)+1)
	}
}

// TestIndexHoldsNoObjectPerEntryForTheCollector measures what the index
// is for: with 100,000 entries kept, a collection finds no heap object per
// entry to mark (hashicorp's LRU made four: 8 ms a collection against 1
// ms, on this project's machine), only chunks of slots and arena pages.
// The count is the runtime's, not a time.
func TestIndexHoldsNoObjectPerEntryForTheCollector(t *testing.T) {
	const n = 100_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := newIndex(n)
	now := time.Now()
	for i := range n {
		x.add(key{name: fmt.Sprintf("q%d.cold.example.", i), qtype: 1, qclass: 1}, entry{wire: make([]byte, 90), stored: now, ttl: time.Minute, msg: true})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	objects := int(after.HeapObjects) - int(before.HeapObjects)
	if objects > n/100 {
		t.Errorf("%d heap objects for %d entries; want at most %d (chunks and pages)", objects, n, n/100)
	}
	runtime.KeepAlive(x)
}

// TestIndexEntriesOfEverySize: names and messages of every size, into the
// arena's classes and past its largest (kept on the heap), come back
// whole, and a reader's copy stays its own when the entry is replaced.
func TestIndexEntriesOfEverySize(t *testing.T) {
	x := newIndex(64)
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[key][]byte{}
	for i := range 400 {
		k := key{name: strings.Repeat("a", 1+rng.IntN(600)) + fmt.Sprint(i%40), route: fmt.Sprint("r", i%3), qtype: 1, qclass: 1}
		size := rng.IntN(maxBlock + 2000)
		if i%7 == 0 {
			size = rng.IntN(64)
		}
		wire := make([]byte, size)
		for j := range wire {
			wire[j] = byte(rng.Uint32())
		}
		held, _, heldOK := x.get(k)
		heldCopy := slices.Clone(held.wire)
		x.add(k, entry{wire: wire, msg: true})
		if heldOK && !bytes.Equal(held.wire, heldCopy) {
			t.Fatalf("entry %d: a reader's copy changed when the entry was replaced", i)
		}
		want[k] = wire
		for k, w := range want {
			e, _, ok := x.peek(k, true)
			if !ok {
				delete(want, k) // evicted
				continue
			}
			if !bytes.Equal(e.wire, w) {
				t.Fatalf("after entry %d: %d bytes back for %d stored (name %d bytes)", i, len(e.wire), len(w), len(k.name))
			}
		}
	}
	for k := range want {
		if got := x.keyOf(mustFind(t, x, k)); got != k {
			t.Fatalf("key made anew %v; want %v", got, k)
		}
	}
}

func mustFind(t *testing.T, x *index, k key) int32 {
	t.Helper()
	s, _ := x.find(k, x.hashOf(k))
	if s == 0 {
		t.Fatalf("%v not found", k)
	}
	return s
}

// BenchmarkIndexMiss looks up absent keys in a full index of 100,000
// entries, as every cold miss does, then adds one (evicting another).
func BenchmarkIndexMiss(b *testing.B) {
	const n = 100_000
	x := newIndex(n)
	for i := range n {
		x.add(key{name: fmt.Sprintf("q%d.cold.example.", i), qtype: 1, qclass: 1}, entry{})
	}
	misses := make([]key, 1<<20) // each absent again when it comes round: 100,000 kept
	for i := range misses {
		misses[i] = key{name: fmt.Sprintf("m%d.cold.example.", i), qtype: 1, qclass: 1}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := misses[i&(len(misses)-1)]
		if _, _, ok := x.get(k); !ok {
			x.add(k, entry{})
		}
		i++
	}
}
