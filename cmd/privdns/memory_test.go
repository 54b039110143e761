package main

import "testing"

// The heap of a server of large zones may grow by a quarter of its live
// data between collections, one of small zones by 64 MiB.
func TestGCPercentFollowsTheLiveHeap(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 100}, {8 << 20, 800}, {64 << 20, 100}, {128 << 20, 50}, {180 << 20, 35}, {256 << 20, 25}, {4 << 30, 25},
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}
