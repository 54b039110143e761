package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/missing"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// sketchObserver counts missing names in a sketch and ignores the rest.
type sketchObserver struct{ *missing.Sketch }

func (sketchObserver) PrivateAnswer(string, string, string) {}
func (sketchObserver) CNAMEIntoPrivate(string)              {}

// A ready-packed NXDOMAIN tells the missing name again on every hit, as
// the resolver told it the first time, without allocating.
func TestReadyPackedNXDOMAINsAreCountedAsMissingNames(t *testing.T) {
	w := enginetest.New(t, true)
	s := missing.New(0)
	e := resolver.NewEngine(resolver.EngineOptions{View: w.Engine.View(), Observer: sketchObserver{s}})
	h := New(Options{Engine: e})
	from := netip.AddrPortFrom(w.Bob, 5300)
	const name = "nothere.privatelink.blob.core.windows.net."
	pkt, q := packedOnce(t, h, resolvertest.Query(name, dns.TypeA), from) // two answers
	out := make([]byte, 4096)
	for range 3 {
		if h.Packed(pkt, &q, from, out) == 0 {
			t.Fatal("no ready-packed answer")
		}
	}
	top := s.Top("", 10)
	want := missing.Entry{Name: name, Count: 5, Zone: "privatelink.blob.core.windows.net.", Network: "vnet-bob", Link: "bob-link"}
	if len(top) != 1 || top[0] != want {
		t.Errorf("missing names %v, want [%v]", top, want)
	}
	if allocs := testing.AllocsPerRun(200, func() { h.Packed(pkt, &q, from, out) }); allocs != 0 {
		t.Errorf("%v allocations per ready-packed NXDOMAIN hit counted in the sketch, want 0", allocs)
	}
}

// Flush drops the ready-packed replies to one name (any case, one type or
// all) and leaves the others; Flush("") drops every one.
func TestFlushDropsReadyPackedReplies(t *testing.T) {
	w := enginetest.New(t, true)
	h := New(Options{Engine: w.Engine})
	from := netip.AddrPortFrom(w.Bob, 5300)
	out := make([]byte, 4096)
	keep := func(name string, qtype uint16) func() int {
		pkt, q := packedOnce(t, h, resolvertest.Query(name, qtype), from)
		return func() int { return h.Packed(pkt, &q, from, out) }
	}
	contosoA := keep("contoso.privatelink.blob.core.windows.net", dns.TypeA)
	contosoTXT := keep("contoso.privatelink.blob.core.windows.net", dns.TypeTXT)
	below := keep("x.contoso.privatelink.blob.core.windows.net", dns.TypeA)
	other := keep("www.corp.example", dns.TypeA)
	for i, f := range []func() int{contosoA, contosoTXT, below, other} {
		if f() == 0 {
			t.Fatalf("reply %d not kept", i)
		}
	}
	h.Flush("CONTOSO.privatelink.blob.core.windows.net", dns.TypeA)
	if contosoA() != 0 {
		t.Error("the flushed name and type is still answered ready-packed")
	}
	if contosoTXT() == 0 || below() == 0 || other() == 0 {
		t.Error("a flush of one name and type dropped other replies")
	}
	h.Flush("contoso.privatelink.blob.core.windows.net.", 0)
	if contosoTXT() != 0 {
		t.Error("a flush of every type left the TXT reply")
	}
	if below() == 0 || other() == 0 {
		t.Error("a flush of one name dropped a name below it or another name")
	}
	h.Flush("", 0)
	if below() != 0 || other() != 0 {
		t.Error("a flush of everything left replies")
	}
}
