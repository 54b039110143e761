package cache

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// typicalA is what a public resolver returns for an A query: one record and an OPT.
func typicalA(req *dns.Msg) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	m.Answer = []dns.RR{&dns.A{
		Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
		A:   net.IPv4(192, 0, 2, 1).To4(),
	}}
	m.SetEdns0(1232, false)
	return m, nil
}

func benchCache(b *testing.B, maxEntries int) *Cache {
	b.Helper()
	start := time.Now()
	c, err := New(Options{MaxEntries: maxEntries, Now: func() time.Time { return start }})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkHit(b *testing.B) {
	c := benchCache(b, 1000)
	ex := c.Wrap("", newUpstream(typicalA))
	req := query("www.example.com.", dns.TypeA)
	req.SetEdns0(1232, false)
	ctx := context.Background()
	if _, err := ex.Exchange(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ex.Exchange(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHitParallel(b *testing.B) {
	c := benchCache(b, 1000)
	ex := c.Wrap("", newUpstream(typicalA))
	ctx := context.Background()
	if _, err := ex.Exchange(ctx, query("www.example.com.", dns.TypeA)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := query("www.example.com.", dns.TypeA)
		for pb.Next() {
			if _, err := ex.Exchange(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMemoryPerEntry fills a cache with 100,000 typical A answers and reports the
// heap they hold (key name, entry, stored message, LRU bookkeeping), to size maxEntries
// against a memory budget. The ns/op includes a miss per entry and fmt.Sprintf.
func BenchmarkMemoryPerEntry(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		b.StopTimer()
		c := benchCache(b, n)
		ex := c.Wrap("", newUpstream(typicalA))
		ctx := context.Background()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for i := range n {
			req := query(fmt.Sprintf("host%d.example.com.", i), dns.TypeA)
			if _, err := ex.Exchange(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		c.Wait()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := c.Stats().Entries; got != n {
			b.Fatalf("Entries %d, want %d", got, n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/entry")
		runtime.KeepAlive(c)
		b.StartTimer()
	}
}

// BenchmarkGCWithEntries fills a cache with 100,000 typical A answers and times a full
// collection with them live: the mark phase scans every pointerful object the cache
// holds, and on a server pinned to one CPU that is where a cold miss's p99 goes. It also
// reports the heap objects per entry (runtime/metrics), which is what the mark work grows
// with.
func BenchmarkGCWithEntries(b *testing.B) {
	const n = 100_000
	objects := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/heap/objects:objects"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	runtime.GC()
	before := objects()
	c := benchCache(b, n)
	ex := c.Wrap("", newUpstream(typicalA))
	ctx := context.Background()
	for i := range n {
		req := query(fmt.Sprintf("host%d.example.com.", i), dns.TypeA)
		if _, err := ex.Exchange(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	c.Wait()
	runtime.GC()
	perEntry := float64(int64(objects())-int64(before)) / n
	b.ResetTimer() // ResetTimer also drops metrics reported so far
	for b.Loop() {
		runtime.GC()
	}
	b.ReportMetric(perEntry, "objects/entry")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/GC")
	runtime.KeepAlive(c)
}
