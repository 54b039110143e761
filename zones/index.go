package zones

import (
	"hash/maphash"
	"math/bits"
)

// index finds a node by its canonical owner name: an open-addressing hash
// table of node numbers (plus one; 0 is empty) at most half full, probed
// in a row. Four bytes a slot against a Go map's key, value and overhead
// per entry; the names themselves are in Zone.names.
type index struct {
	seed  maphash.Seed
	slots []uint32
}

// newIndex builds the table for the nodes of z.
func newIndex(z *Zone) index {
	size := 1 << bits.Len(uint(2*len(z.nodes)))
	x := index{seed: maphash.MakeSeed(), slots: make([]uint32, size)}
	for i := range z.nodes {
		h := maphash.String(x.seed, z.owner(uint32(i)))
		for s := x.slot(h); ; s = (s + 1) & (len(x.slots) - 1) {
			if x.slots[s] == 0 {
				x.slots[s] = uint32(i) + 1
				break
			}
		}
	}
	return x
}

func (x *index) slot(h uint64) int { return int(h) & (len(x.slots) - 1) }

// find returns the node whose owner is key, a canonical name. It does not
// allocate.
func (z *Zone) find(key []byte) (uint32, bool) {
	x := &z.index
	for s := x.slot(maphash.Bytes(x.seed, key)); ; s = (s + 1) & (len(x.slots) - 1) {
		v := x.slots[s]
		if v == 0 {
			return 0, false
		}
		if z.owner(v-1) == string(key) {
			return v - 1, true
		}
	}
}
