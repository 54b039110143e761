package cache

import (
	"bytes"
	"testing"
)

// TestArenaBlocksHoldTheirSizeAndAreReused: every size gets a block of its
// class, at least as large, that does not overlap another live one, and a
// freed block is handed out again for its class.
func TestArenaBlocksHoldTheirSizeAndAreReused(t *testing.T) {
	var a arena
	type live struct {
		b    block
		fill byte
		n    int
	}
	var blocks []live
	for n := 1; n <= maxBlock; n += 1 + n/7 {
		b, ok := a.alloc(n)
		if !ok {
			t.Fatalf("no block for %d bytes", n)
		}
		if size := blockSizes[b.class()]; size < n {
			t.Fatalf("a block of %d bytes for %d", size, n)
		}
		fill := byte(len(blocks))
		for i := range a.bytes(b, n) {
			a.bytes(b, n)[i] = fill
		}
		blocks = append(blocks, live{b, fill, n})
	}
	for _, l := range blocks {
		if !bytes.Equal(a.bytes(l.b, l.n), bytes.Repeat([]byte{l.fill}, l.n)) {
			t.Fatalf("the block of %d bytes was overwritten by another", l.n)
		}
	}
	pages := len(a.pages)
	for _, l := range blocks {
		a.release(l.b)
	}
	for _, l := range blocks {
		if b, _ := a.alloc(l.n); b.class() != l.b.class() {
			t.Fatalf("class %d for %d bytes; want %d", b.class(), l.n, l.b.class())
		}
	}
	if len(a.pages) != pages {
		t.Errorf("%d pages after reusing the freed blocks; want %d, none new", len(a.pages), pages)
	}
}
