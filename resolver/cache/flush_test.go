package cache

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/privdns/privdns/resolver/report"
)

// Flush drops the entries of one name, on every route, of one type or
// all: positive, negative, failure and stale alike; names below it and
// other names stay, and a flushed entry no longer counts as current for
// ready-packed replies built on it.
func TestFlushDropsOneNameOnEveryRoute(t *testing.T) {
	c, clock := newTestCache(t, Options{ServeStale: true})
	pos := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 60 IN A 192.0.2.1"}))
	neg := newUpstream(replyWith(t, dns.RcodeNameError, nil, "example. 60 IN SOA ns. host. 1 3600 300 2419200 60"))
	down := newUpstream(failing)
	stale := c.Wrap("stale", pos)
	ask(t, stale, query("a.example.", dns.TypeSRV))
	clock.Advance(2 * time.Minute) // the SRV entry is stale now, still servable
	routes := []Exchanger{c.Wrap("upstreams", pos), c.Wrap("onprem", pos)}
	for _, ex := range routes {
		ask(t, ex, query("a.example.", dns.TypeA))
		ask(t, ex, query("a.example.", dns.TypeAAAA))
		ask(t, ex, query("below.a.example.", dns.TypeA))
		ask(t, ex, query("b.example.", dns.TypeA))
	}
	ask(t, c.Wrap("neg", neg), query("a.example.", dns.TypeTXT))
	c.Wrap("down", down).Exchange(context.Background(), query("a.example.", dns.TypeMX))

	var rep report.Report // what a ready-packed reply keeps of its cache entry
	if _, err := routes[0].Exchange(report.With(context.Background(), &rep), query("a.example.", dns.TypeA)); err != nil || !rep.Fresh.Current() {
		t.Fatalf("before the flush: err %v, entry current %v", err, rep.Fresh.Current())
	}
	entries := c.Stats().Entries
	if entries != 11 {
		t.Fatalf("%d entries before the flush, want 11", entries)
	}

	if n := c.Flush("A.Example", dns.TypeA); n != 2 {
		t.Errorf("Flush(A.Example, A) dropped %d entries, want 2 (one per route)", n)
	}
	if rep.Fresh.Current() {
		t.Error("a flushed entry still counts as current")
	}
	if n := c.Flush("a.example.", 0); n != 5 {
		t.Errorf("Flush(a.example., all types) dropped %d entries, want 5 (AAAA twice, TXT, MX, SRV)", n)
	}
	if got := c.Stats().Entries; got != 4 {
		t.Errorf("%d entries left, want the 4 of below.a.example. and b.example.", got)
	}
	calls := pos.calls.Load()
	ask(t, routes[0], query("below.a.example.", dns.TypeA))
	ask(t, routes[1], query("b.example.", dns.TypeA))
	wantCalls(t, pos, calls)
	ask(t, routes[0], query("a.example.", dns.TypeA))
	wantCalls(t, pos, calls+1)
}
