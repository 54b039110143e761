package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/zones"
)

// source is a ZoneSource whose data the test swaps, as a secondary's
// transfers do.
type source struct {
	name string
	cur  atomic.Pointer[zones.Zone]
}

func (s *source) Name() string         { return s.name }
func (s *source) Current() *zones.Zone { return s.cur.Load() }

func transferred(t *testing.T, origin string, records ...string) *zones.Zone {
	t.Helper()
	var rrs []dns.RR
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	z, _, err := zones.Transferred(origin, rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// A linked zone without data (a secondary before its first transfer, or
// expired) is SERVFAIL for its names, never NXDOMAIN and never the public
// path (R12); once data arrives it answers from it, and each new version
// is answered from as soon as it is current.
func TestAZoneSourceWithoutDataIsServfailThenAnswersEachVersion(t *testing.T) {
	pub := resolvertest.MustPublic(
		"www.corp.example. 60 IN A 192.0.2.66", // the public path must never answer this
		"www.example.com. 60 IN A 192.0.2.1",
	)
	src := &source{name: "corp.example."}
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, pub, resolver.Link{Source: src})})

	for _, name := range []string{"www.corp.example", "missing.corp.example", "corp.example"} {
		if _, err := resolveOne(t, e, name, dns.TypeA); !errors.Is(err, resolver.ErrZoneUnavailable) {
			t.Errorf("%s without data: err %v, want ErrZoneUnavailable", name, err)
		}
	}
	if resp, err := resolveOne(t, e, "www.example.com", dns.TypeA); err != nil || len(resp.Answer) != 1 {
		t.Errorf("a name outside the zone: %v, %v; want the public answer", resp, err)
	}

	soa := "corp.example. 60 IN SOA ns.corp.example. h.corp.example. %d 60 60 600 60"
	for serial, addr := range []string{"10.0.0.1", "10.0.0.2"} {
		src.cur.Store(transferred(t, "corp.example.",
			fmt.Sprintf(soa, serial+1), "corp.example. 60 IN NS ns.corp.example.", "ns.corp.example. 60 IN A 10.0.0.53",
			"www.corp.example. 60 IN A "+addr))
		resp, err := resolveOne(t, e, "www.corp.example", dns.TypeA)
		if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != addr {
			t.Fatalf("serial %d: %v, %v; want %s", serial+1, resp, err, addr)
		}
		if resp, err := resolveOne(t, e, "missing.corp.example", dns.TypeA); err != nil || resp.Rcode != dns.RcodeNameError {
			t.Errorf("serial %d: a missing name: %v, %v; want NXDOMAIN", serial+1, resp, err)
		}
	}
	src.cur.Store(nil) // expired
	if _, err := resolveOne(t, e, "www.corp.example", dns.TypeA); !errors.Is(err, resolver.ErrZoneUnavailable) {
		t.Errorf("expired: err %v, want ErrZoneUnavailable", err)
	}
}

// Names at or under a delegation dropped from a transferred zone (such as
// Active Directory's _msdcs) are resolved on the public path, where a
// forwarding rule of the network may send them to their servers (R12).
func TestNamesUnderADroppedDelegationTakeThePublicPath(t *testing.T) {
	onprem := resolvertest.MustPublic("dc1._msdcs.corp.example. 60 IN A 10.9.0.1", "_msdcs.corp.example. 60 IN SOA dc1._msdcs.corp.example. h. 1 60 60 600 60")
	src := &source{name: "corp.example."}
	src.cur.Store(transferred(t, "corp.example.",
		"corp.example. 60 IN SOA ns.corp.example. h.corp.example. 1 60 60 600 60",
		"corp.example. 60 IN NS ns.corp.example.", "ns.corp.example. 60 IN A 10.0.0.53",
		"_msdcs.corp.example. 60 IN NS dc1._msdcs.corp.example.", "dc1._msdcs.corp.example. 60 IN A 10.9.0.1",
		"www.corp.example. 60 IN A 10.0.0.1"))
	v, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(t, "127.0.0.0/8")}},
		Links:    []resolver.Link{{Name: "l", Network: "n", Source: src}},
		Rules:    []resolver.Route{{Name: "ad/_msdcs", Domain: "_msdcs.corp.example.", Networks: []string{"n"}, Upstream: onprem}},
		Default:  resolvertest.MustPublic(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := resolver.NewEngine(resolver.EngineOptions{View: v})
	resp, err := resolveOne(t, e, "dc1._msdcs.corp.example", dns.TypeA)
	if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "10.9.0.1" {
		t.Fatalf("under the cut: %v, %v; want the forwarding rule's answer", resp, err)
	}
	if resp.Authoritative {
		t.Error("an answer from the public path is marked authoritative")
	}
	if resp, err := resolveOne(t, e, "www.corp.example", dns.TypeA); err != nil || len(resp.Answer) != 1 {
		t.Errorf("beside the cut: %v, %v; want the zone's answer", resp, err)
	}
}

// revSource is a source with registered reverse names.
type revSource struct {
	source
	ptr map[string][]dns.RR
}

func (r *revSource) PTR(qname string) []dns.RR { return r.ptr[qname] }

// A PTR query for the reverse name of a registered address is answered
// from the registrations before R2 (RFC 6303 local zones and the public
// path never see it), unless a zone linked to the network holds the name;
// other networks, and other reverse names, get what they got before.
func TestRegisteredReverseNamesAreAnsweredBeforeR2(t *testing.T) {
	reg := &revSource{source: source{name: "corp.example."}, ptr: map[string][]dns.RR{}}
	reg.cur.Store(transferred(t, "corp.example.", "corp.example. 60 IN SOA ns.corp.example. h.corp.example. 1 60 60 600 60", "vm1.corp.example. 10 IN A 10.1.0.4"))
	ptr, _ := dns.NewRR("4.0.1.10.in-addr.arpa. 10 IN PTR vm1.corp.example.")
	reg.ptr["4.0.1.10.in-addr.arpa."] = []dns.RR{ptr}
	held, _ := dns.NewRR("5.0.1.10.in-addr.arpa. 10 IN PTR manual.corp.example.")
	reg.ptr["5.0.1.10.in-addr.arpa."] = []dns.RR{held}
	reverse := resolvertest.Zone(t, "0.1.10.in-addr.arpa", "5 60 IN PTR from-the-zone.corp.example.")
	v, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{
			{Name: "n", Prefixes: resolvertest.Prefixes(t, "127.0.0.0/24")},
			{Name: "other", Prefixes: resolvertest.Prefixes(t, "127.0.1.0/24")},
		},
		Links: []resolver.Link{
			{Name: "reg", Network: "n", Source: reg},
			{Name: "rev", Network: "n", Zone: reverse},
		},
		Default:    resolvertest.MustPublic("4.0.1.10.in-addr.arpa. 60 IN PTR public.example."),
		LocalZones: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := resolver.NewEngine(resolver.EngineOptions{View: v})
	ask := func(from, name string) *dns.Msg {
		t.Helper()
		resp, err := e.Resolve(context.Background(), &resolver.Query{Msg: resolvertest.Query(name, dns.TypePTR), Client: netip.MustParseAddr(from)})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if m := ask("127.0.0.1", "4.0.1.10.in-addr.arpa"); len(m.Answer) != 1 || m.Answer[0].(*dns.PTR).Ptr != "vm1.corp.example." {
		t.Errorf("a registered address: %v, want its registered name", m.Answer)
	}
	if m := ask("127.0.0.1", "5.0.1.10.in-addr.arpa"); len(m.Answer) != 1 || m.Answer[0].(*dns.PTR).Ptr != "from-the-zone.corp.example." {
		t.Errorf("a reverse name a linked zone holds: %v, want the zone's record", m.Answer)
	}
	if m := ask("127.0.1.1", "4.0.1.10.in-addr.arpa"); m.Rcode != dns.RcodeNameError || len(m.Answer) != 0 {
		t.Errorf("from a network not linked to the registration zone: %s %v, want the RFC 6303 NXDOMAIN", dns.RcodeToString[m.Rcode], m.Answer)
	}
}

// regSource is a source some of whose names are registered.
type regSource struct {
	revSource
	registered map[string]bool
}

func (r *regSource) Registered(name string) bool { return r.registered[name] }

// Answers of registered names, and PTR answers of registered addresses,
// take path "registered" (the query log says so), also at the end of a
// CNAME chain; the zone's own records, and NODATA at a registered name,
// stay "private"; a trace says which records were registered.
func TestAnswersOfRegisteredNamesTakePathRegistered(t *testing.T) {
	reg := &regSource{revSource: revSource{source: source{name: "corp.example."}, ptr: map[string][]dns.RR{}},
		registered: map[string]bool{"vm1.corp.example.": true}}
	reg.cur.Store(transferred(t, "corp.example.", "corp.example. 60 IN SOA ns.corp.example. h.corp.example. 1 60 60 600 60",
		"vm1.corp.example. 10 IN A 10.1.0.4", "manual.corp.example. 60 IN A 10.1.0.9", "alias.corp.example. 60 IN CNAME vm1.corp.example.",
		"*.wild.corp.example. 60 IN A 10.1.0.7"))
	ptr, _ := dns.NewRR("4.0.1.10.in-addr.arpa. 10 IN PTR vm1.corp.example.")
	reg.ptr["4.0.1.10.in-addr.arpa."] = []dns.RR{ptr}
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, resolvertest.MustPublic(), resolver.Link{Source: reg})})
	for _, c := range []struct {
		name      string
		qtype     uint16
		wantPath  string
		wantTrace bool // the trace says the records were registered
	}{
		{"vm1.corp.example", dns.TypeA, "registered", true},
		{"VM1.Corp.Example", dns.TypeA, "registered", true},
		{"alias.corp.example", dns.TypeA, "registered", true},
		{"4.0.1.10.in-addr.arpa", dns.TypePTR, "registered", false},
		{"manual.corp.example", dns.TypeA, "private", false},
		{"vm1.corp.example", dns.TypeTXT, "private", false},
		{"x.wild.corp.example", dns.TypeA, "private", false},
		{"missing.corp.example", dns.TypeA, "private", false},
	} {
		var trace []string
		q := &resolver.Query{Msg: resolvertest.Query(c.name, c.qtype), Client: netip.MustParseAddr("127.0.0.1"),
			Trace: func(format string, args ...any) { trace = append(trace, fmt.Sprintf(format, args...)) }}
		if _, err := e.Resolve(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		said := false
		for _, l := range trace {
			said = said || strings.Contains(l, "registered by UPDATE")
		}
		if q.Path != c.wantPath || said != c.wantTrace {
			t.Errorf("%s %s: path %q, trace says registered %v, want %q, %v\n%s", c.name, dns.Type(c.qtype), q.Path, said, c.wantPath, c.wantTrace, strings.Join(trace, "\n"))
		}
	}
}
