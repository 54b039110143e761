package missing

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

const zone = "privatelink.blob.core.windows.net."

func TestCountsAreExactAndSortedByCountThenName(t *testing.T) {
	s := New(0)
	for range 7 {
		s.NXDomain(zone, "vnet-prod", "prod-link", "fabrikam."+zone)
	}
	for range 3 {
		s.NXDomain(zone, "vnet-prod", "prod-link", "b."+zone)
		s.NXDomain(zone, "vnet-prod", "prod-link", "a."+zone)
	}
	s.NXDomain(zone, "vnet-dev", "dev-link", "fabrikam."+zone) // another network: its own entry
	s.NXDomain("corp.internal.", "vnet-prod", "corp", "x.corp.internal.")
	got := s.Top("", 10)
	want := []Entry{
		{"fabrikam." + zone, 7, zone, "vnet-prod", "prod-link"},
		{"a." + zone, 3, zone, "vnet-prod", "prod-link"},
		{"b." + zone, 3, zone, "vnet-prod", "prod-link"},
		{"fabrikam." + zone, 1, zone, "vnet-dev", "dev-link"},
		{"x.corp.internal.", 1, "corp.internal.", "vnet-prod", "corp"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Top:\n got %v\nwant %v", got, want)
	}
	if got := s.Top("corp.internal.", 10); len(got) != 1 || got[0].Name != "x.corp.internal." {
		t.Errorf("Top(corp.internal.) = %v", got)
	}
	if got := s.Top(zone, 2); len(got) != 2 || got[1].Name != "a."+zone {
		t.Errorf("Top(zone, 2) = %v", got)
	}
	if got := s.Top("unknown.", 10); got == nil || len(got) != 0 {
		t.Errorf("an unknown zone gives %#v, want an empty list", got)
	}
}

// A flood of distinct names keeps the sketch at its capacity, holds its
// memory flat, and never evicts a name counted more often than the
// flood's share of a slot: that name's count stays exact.
func TestAFloodOfDistinctNamesKeepsMemoryFlatAndTheHotNameExact(t *testing.T) {
	s := New(1000)
	if s.Capacity() < 1000 {
		t.Fatalf("capacity %d, want at least 1000", s.Capacity())
	}
	flood := func(from, to int) {
		for i := from; i < to; i++ {
			s.NXDomain(zone, "vnet-prod", "prod-link", fmt.Sprintf("flood-%d.%s", i, zone))
			if i%50 == 0 {
				s.NXDomain(zone, "vnet-prod", "prod-link", "hot."+zone)
			}
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	flood(0, 20_000)
	before := heap()
	flood(20_000, 220_000)
	after := heap()
	if n := s.Len(); n > s.Capacity() {
		t.Errorf("%d names tracked, capacity %d", n, s.Capacity())
	}
	if after > before+512<<10 {
		t.Errorf("heap grew from %d to %d bytes over 200,000 more distinct names", before, after)
	}
	top := s.Top(zone, 1)
	if len(top) != 1 || top[0].Name != "hot."+zone || top[0].Count != 220_000/50 {
		t.Errorf("top = %v, want hot.%s counted exactly %d times", top, zone, 220_000/50)
	}
}

func TestConcurrentCountsAreAllCounted(t *testing.T) {
	s := New(0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				s.NXDomain(zone, "n", "l", fmt.Sprintf("name-%d.%s", i%10, zone))
				if i%100 == 0 {
					s.Top(zone, 3)
				}
			}
			_ = g
		}()
	}
	wg.Wait()
	for _, e := range s.Top(zone, 20) {
		if e.Count != 800 {
			t.Errorf("%s counted %d times, want 800", e.Name, e.Count)
		}
	}
}

func TestCountingATrackedNameAllocatesNothing(t *testing.T) {
	s := New(0)
	name := "hot." + zone
	s.NXDomain(zone, "n", "l", name)
	if a := testing.AllocsPerRun(100, func() { s.NXDomain(zone, "n", "l", name) }); a != 0 {
		t.Errorf("%v allocations per count of a tracked name, want 0", a)
	}
}

func BenchmarkTrackedName(b *testing.B) {
	s := New(0)
	s.NXDomain(zone, "n", "l", "hot."+zone)
	b.ReportAllocs()
	for b.Loop() {
		s.NXDomain(zone, "n", "l", "hot."+zone)
	}
}

func BenchmarkDistinctNames(b *testing.B) {
	s := New(0)
	names := make([]string, 4096)
	for i := range names {
		names[i] = fmt.Sprintf("n%d.%s", i, zone)
	}
	i := 0
	for b.Loop() {
		s.NXDomain(zone, "n", "l", names[i%len(names)])
		i++
	}
}

// Every tracked name stays findable without the lock however often
// names are evicted and their table entries moved back.
func TestEvictionsKeepEveryTrackedNameFindable(t *testing.T) {
	s := New(64)
	for i := range 20_000 {
		s.NXDomain(zone, "n", "l", fmt.Sprintf("n%d.%s", i%3000, zone))
	}
	for i := range s.shards {
		sh := &s.shards[i]
		used := 0
		for j := range sh.table {
			if sh.table[j].Load() != nil {
				used++
			}
		}
		if used != len(sh.slots) {
			t.Fatalf("shard %d: %d table entries for %d slots", i, used, len(sh.slots))
		}
		for _, sl := range sh.slots {
			if sh.find(&sl.key, sl.hash) != sl {
				t.Fatalf("shard %d: %s is tracked but not found", i, sl.name)
			}
		}
	}
}
