// Package missing keeps the names most often answered NXDOMAIN by Default
// links (SPEC §10, the admin API's /nxdomains): a bounded top-K sketch fed
// by the resolver's Observer hook.
//
// The sketch is Space-Saving (Metwally, Agrawal, El Abbadi, 2005), split
// into shards by the hash of the key: a name already tracked is counted
// exactly, with a probe of a small table and one atomic add, no lock and
// no allocation; a name not tracked takes its shard's lock and the place
// of the shard's least counted entry, inheriting that count plus one.
//
// Sharp edge: counts are exact only while a name stays tracked. A name
// that was evicted and comes back starts from the evicted count, so it is
// over-estimated; a flood of distinct names evicts only names counted less
// often than the flood's share of a slot, never one counted more.
package missing

import (
	"cmp"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// DefaultCapacity is how many names a Sketch tracks when New is given 0.
const DefaultCapacity = 1024

const shards = 16

// Entry is one tracked name as the admin API reports it.
type Entry struct {
	Name    string `json:"name"`
	Count   uint64 `json:"count"`
	Zone    string `json:"zone"`
	Network string `json:"network"`
	Link    string `json:"link"`
}

type key struct{ name, network, link string }

type slot struct {
	key
	hash  uint64
	zone  string
	count atomic.Uint64
}

// shard is one Space-Saving sketch. Its slots are found through an
// open-addressing table (linear probing, at most half full) that readers
// probe without the lock; only add changes it, under the lock. A reader
// that probes while add moves entries may miss a tracked name: it then
// takes the lock and finds it there, so no count is lost to a move.
type shard struct {
	table []atomic.Pointer[slot] // a power of two long
	mu    sync.Mutex
	slots []*slot // under mu
}

// Sketch counts missing names; it is safe for concurrent use, and its
// memory is bounded by its capacity whatever it is fed.
type Sketch struct {
	seed   maphash.Seed
	per    int // slots per shard
	shards [shards]shard
}

// New returns a Sketch tracking at least capacity names (0: DefaultCapacity).
func New(capacity int) *Sketch {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	s := &Sketch{seed: maphash.MakeSeed(), per: (capacity + shards - 1) / shards}
	size := 1
	for size < 2*s.per {
		size <<= 1
	}
	for i := range s.shards {
		s.shards[i].table = make([]atomic.Pointer[slot], size)
	}
	return s
}

// Capacity is how many names s tracks at most.
func (s *Sketch) Capacity() int { return s.per * shards }

// NXDomain counts one NXDOMAIN for name (lower-case FQDN) in zone, asked
// from network and answered through link. It is the resolver.Observer
// method of the same name.
func (s *Sketch) NXDomain(zone, network, link, name string) {
	k := key{name: name, network: network, link: link}
	h := maphash.String(s.seed, name)
	h ^= maphash.String(s.seed, network) * 0x9E3779B97F4A7C15
	h ^= maphash.String(s.seed, link) * 0xC2B2AE3D27D4EB4F
	sh := &s.shards[(h^h>>32)%shards]
	if sl := sh.find(&k, h); sl != nil {
		sl.count.Add(1)
		return
	}
	sh.add(k, h, zone, s.per)
}

func (sh *shard) find(k *key, h uint64) *slot {
	mask := uint64(len(sh.table) - 1)
	for i, n := h&mask, 0; n < len(sh.table); i, n = (i+1)&mask, n+1 {
		sl := sh.table[i].Load()
		if sl == nil {
			return nil
		}
		if sl.hash == h && sl.key == *k {
			return sl
		}
	}
	return nil
}

// add counts k, not found when its caller looked: in a free slot, or in
// place of the least counted one, whose count it inherits (Space-Saving).
func (sh *shard) add(k key, h uint64, zone string, per int) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sl := sh.find(&k, h); sl != nil { // added meanwhile, or missed during a move
		sl.count.Add(1)
		return
	}
	sl := &slot{key: k, hash: h, zone: zone}
	if len(sh.slots) < per {
		sl.count.Store(1)
		sh.slots = append(sh.slots, sl)
	} else {
		least := 0
		for i, x := range sh.slots {
			if x.count.Load() < sh.slots[least].count.Load() {
				least = i
			}
		}
		gone := sh.slots[least]
		sl.count.Store(gone.count.Load() + 1)
		sh.remove(gone)
		sh.slots[least] = sl
	}
	mask := uint64(len(sh.table) - 1)
	i := h & mask
	for sh.table[i].Load() != nil {
		i = (i + 1) & mask
	}
	sh.table[i].Store(sl)
}

// remove takes sl out of the table, moving back the entries after it
// that would otherwise be cut off from their home position.
func (sh *shard) remove(sl *slot) {
	mask := uint64(len(sh.table) - 1)
	i := sl.hash & mask
	for sh.table[i].Load() != sl {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		x := sh.table[j].Load()
		if x == nil {
			break
		}
		// x stays when its home lies cyclically in (i, j].
		if home := x.hash & mask; (i < j && i < home && home <= j) || (j < i && (i < home || home <= j)) {
			continue
		}
		sh.table[i].Store(x)
		i = j
	}
	sh.table[i].Store(nil)
}

// Top returns the names counted most, at most limit of them, those of zone
// only when zone is not "" (a lower-case FQDN): by count, most first, then
// by name, network and link.
func (s *Sketch) Top(zone string, limit int) []Entry {
	out := []Entry{}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, sl := range sh.slots {
			if zone == "" || sl.zone == zone {
				out = append(out, Entry{Name: sl.name, Count: sl.count.Load(), Zone: sl.zone, Network: sl.network, Link: sl.link})
			}
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Network, b.Network), cmp.Compare(a.Link, b.Link))
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Len is how many names s tracks now.
func (s *Sketch) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.slots)
		sh.mu.Unlock()
	}
	return n
}
