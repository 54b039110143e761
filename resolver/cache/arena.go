package cache

import "encoding/binary"

// arena keeps the index's bytes (each entry's name and message) in pages
// without pointers, in blocks of a few size classes, so that the
// collector has nothing of them to mark: a heap object an entry, even one
// without pointers, is a mark bit to find and set on every cycle (2 ms a
// cycle for 100,000 entries on this project's machine). Freed blocks go
// to their class's free list, linked through their first bytes, and are
// reused; pages are given back only all at once (reset). Not safe for
// concurrent use: the index's lock guards it.
type arena struct {
	pages [][]byte
	free  [len(blockSizes)]uint32 // each class's first free block, a block ref+1; 0 = none
	page  int                     // the page being carved, len(pages)-1
	used  int                     // bytes carved from it
}

const (
	pageSize  = 64 << 10
	blockUnit = 16 // block offsets are multiples of it
)

// blockSizes are the size classes, each about 1.5 times the one before.
var blockSizes = [...]int{32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384}

// maxBlock is the largest size the arena holds, and maxPages the most
// pages a block can name; the index keeps what does not fit on the heap.
const (
	maxBlock = 16384
	maxPages = 1 << 15 // 2 GiB
)

// block names a block: its page, its offset in blockUnits and its class.
type block uint32

func blockAt(page, off, class int) block {
	return block(page<<17 | (off/blockUnit)<<5 | class)
}
func (b block) page() int  { return int(b >> 17) }
func (b block) off() int   { return int(b>>5&(1<<12-1)) * blockUnit }
func (b block) class() int { return int(b & 31) }

// classOf is the smallest class that holds n bytes (n <= maxBlock).
func classOf(n int) int {
	for c, size := range blockSizes {
		if n <= size {
			return c
		}
	}
	panic("cache: arena block too large")
}

// alloc returns a block of at least n bytes (n <= maxBlock), or false
// when the arena is full.
func (a *arena) alloc(n int) (block, bool) {
	c := classOf(n)
	if f := a.free[c]; f != 0 {
		b := block(f - 1)
		a.free[c] = binary.LittleEndian.Uint32(a.bytes(b, 4))
		return b, true
	}
	size := blockSizes[c]
	if len(a.pages) == 0 || a.used+size > pageSize {
		if len(a.pages) == maxPages {
			return 0, false
		}
		a.pages = append(a.pages, make([]byte, pageSize))
		a.page, a.used = len(a.pages)-1, 0
	}
	b := blockAt(a.page, a.used, c)
	a.used += size
	return b, true
}

// release puts b on its class's free list.
func (a *arena) release(b block) {
	binary.LittleEndian.PutUint32(a.bytes(b, 4), a.free[b.class()])
	a.free[b.class()] = uint32(b) + 1
}

// bytes returns the first n bytes of b, in place.
func (a *arena) bytes(b block, n int) []byte {
	off := b.off()
	return a.pages[b.page()][off : off+n : off+n]
}

// reset gives every page back.
func (a *arena) reset() { *a = arena{} }
