package resolver_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
)

func resolveOne(t *testing.T, e resolver.Resolver, name string, qtype uint16) (*dns.Msg, error) {
	t.Helper()
	return e.Resolve(context.Background(), &resolver.Query{Msg: resolvertest.Query(name, qtype), Client: netip.MustParseAddr("127.0.0.1")})
}

func TestExplainOffLeavesNoEDE(t *testing.T) {
	w := enginetest.New(t, false)
	for _, from := range []netip.Addr{w.Bob, w.Alice} {
		resp, err := w.Engine.Resolve(context.Background(), &resolver.Query{Msg: resolvertest.Query("fabrikam.blob.core.windows.net", dns.TypeA), Client: from})
		if err != nil {
			t.Fatal(err)
		}
		if texts := resolvertest.EDETexts(resp); len(texts) != 0 {
			t.Errorf("from %s: EDE %q with explain off", from, texts)
		}
	}
}

func TestUnknownClientsNamesANetwork(t *testing.T) {
	z := resolvertest.Zone(t, "corp.example", "www 60 IN A 10.0.0.1")
	v, err := resolver.NewView(resolver.ViewOptions{
		Networks:       []resolver.Network{{Name: "hub", Prefixes: resolvertest.Prefixes(t, "127.0.1.0/24")}},
		Links:          []resolver.Link{{Name: "l", Network: "hub", Zone: z}},
		UnknownClients: "hub",
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := resolveOne(t, resolver.NewEngine(resolver.EngineOptions{View: v}), "www.corp.example", dns.TypeA)
	if err != nil || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
		t.Fatalf("unknown client resolved as hub: %v %v", resp, err)
	}
	if _, err := resolver.NewView(resolver.ViewOptions{UnknownClients: "nope"}); err == nil {
		t.Error("unknownClients naming no network was accepted")
	}
}

func TestLongestPrefixWins(t *testing.T) {
	wide := resolvertest.Zone(t, "wide.example", "www 60 IN A 10.0.0.1")
	narrow := resolvertest.Zone(t, "narrow.example", "www 60 IN A 10.0.0.2")
	v, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{
			{Name: "wide", Prefixes: resolvertest.Prefixes(t, "127.0.0.0/8")},
			{Name: "narrow", Prefixes: resolvertest.Prefixes(t, "127.0.5.0/24")},
		},
		Links: []resolver.Link{{Name: "w", Network: "wide", Zone: wide}, {Name: "n", Network: "narrow", Zone: narrow}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := resolver.NewEngine(resolver.EngineOptions{View: v})
	for _, tc := range []struct {
		from, qname string
		want        int
	}{
		{"127.0.5.1", "www.narrow.example", 1}, {"127.0.5.1", "www.wide.example", 0},
		{"127.0.6.1", "www.wide.example", 1}, {"127.0.6.1", "www.narrow.example", 0},
		{"::ffff:127.0.5.1", "www.narrow.example", 1},
	} {
		q := &resolver.Query{Msg: resolvertest.Query(tc.qname, dns.TypeA), Client: netip.MustParseAddr(tc.from)}
		resp, _ := e.Resolve(context.Background(), q)
		// Names outside a network's zones go to the (absent) upstreams:
		// an error, never the other network's private answer.
		if got := 0; resp != nil {
			got = len(resp.Answer)
			if got != tc.want {
				t.Errorf("%s asking %s: %d answers, want %d", tc.from, tc.qname, got, tc.want)
			}
		} else if tc.want != 0 {
			t.Errorf("%s asking %s: no answer", tc.from, tc.qname)
		}
	}
}

func TestPublicAnswerKeepsOnlyTheChain(t *testing.T) {
	stray := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		add := func(s string) dns.RR { rr, _ := dns.NewRR(s); return rr }
		m.Answer = []dns.RR{
			add("www.example.com. 60 CH CNAME evil.example.com."), // another class
			add("www.example.com. 60 IN CNAME edge.example.net."),
			add("edge.example.net. 60 CH A 6.6.6.8"),
			add("evil.example.com. 60 IN A 6.6.6.6"), // not on the chain
			add("edge.example.net. 60 IN A 192.0.2.1"),
			add("edge.example.net. 60 IN TXT \"other type\""),
		}
		m.Ns = []dns.RR{add("example.com. 60 IN NS ns.evil.example.")}
		m.Extra = []dns.RR{add("ns.evil.example. 60 IN A 6.6.6.7")}
		w.WriteMsg(m)
	})
	up := resolvertest.New(t, stray)
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, enginetest.Client{Addr: up.Addr})})
	resp, err := resolveOne(t, e, "www.example.com", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	want := resolvertest.ParseLines(t, []string{"www.example.com. 60 IN CNAME edge.example.net.", "edge.example.net. 60 IN A 192.0.2.1"})
	if got := resolvertest.RRStrings(resp.Answer); !slices.Equal(got, want) || len(resp.Ns) != 0 || len(resp.Extra) != 0 {
		t.Errorf("answer %q ns %v extra %v, want only %q", got, resp.Ns, resp.Extra, want)
	}
}

func TestPartialChainIsFollowed(t *testing.T) {
	pub := resolvertest.MustPublic(
		"a.example.com. 60 IN CNAME b.example.net.",
		"b.example.net. 60 IN CNAME c.example.org.",
		"c.example.org. 60 IN A 192.0.2.3",
	)
	pub.Partial = true // answers one CNAME at a time, like an authoritative server
	up := resolvertest.New(t, pub)
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, enginetest.Client{Addr: up.Addr})})
	resp, err := resolveOne(t, e, "a.example.com", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	want := resolvertest.ParseLines(t, []string{
		"a.example.com. 60 IN CNAME b.example.net.", "b.example.net. 60 IN CNAME c.example.org.", "c.example.org. 60 IN A 192.0.2.3"})
	if got := resolvertest.RRStrings(resp.Answer); !slices.Equal(got, want) {
		t.Errorf("answer %q, want %q", got, want)
	}
	if up.Hits() != 3 {
		t.Errorf("upstream asked %d times, want 3", up.Hits())
	}
}

func TestPublicCNAMELoopIsServfail(t *testing.T) {
	pub := resolvertest.MustPublic("a.example.com. 60 IN CNAME b.example.com.", "b.example.com. 60 IN CNAME a.example.com.")
	pub.Partial = true
	up := resolvertest.New(t, pub)
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, enginetest.Client{Addr: up.Addr})})
	if _, err := resolveOne(t, e, "a.example.com", dns.TypeA); !errors.Is(err, resolver.ErrChainLimit) {
		t.Errorf("err = %v, want resolver.ErrChainLimit", err)
	}
}

func TestFallbackLoopThroughTheSameZoneIsServfail(t *testing.T) {
	// Publicly x.private.example is a CNAME to y.private.example and back:
	// each private NXDOMAIN falls back, and the chain must still end.
	up := resolvertest.StartPublic(t,
		"x.private.example. 60 IN CNAME y.private.example.",
		"y.private.example. 60 IN CNAME x.private.example.")
	z := resolvertest.Zone(t, "private.example", "other 60 IN A 10.0.0.1")
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, enginetest.Client{Addr: up.Addr}, resolver.Link{Zone: z, Policy: resolver.PolicyNxDomainRedirect})})
	if _, err := resolveOne(t, e, "x.private.example", dns.TypeA); !errors.Is(err, resolver.ErrChainLimit) {
		t.Errorf("err = %v, want resolver.ErrChainLimit", err)
	}
}

func TestFallbackTypesWidenTheList(t *testing.T) {
	up := resolvertest.StartPublic(t,
		"fabrikam.privatelink.example. 60 IN TXT \"public\"",
		"fabrikam.privatelink.example. 60 IN A 192.0.2.1",
		"fabrikam.privatelink.example. 60 IN MX 10 mail.example.")
	z := resolvertest.Zone(t, "privatelink.example", "contoso 60 IN A 10.0.0.1")
	link := resolver.Link{Zone: z, Policy: resolver.PolicyNxDomainRedirect, FallbackTypes: []uint16{dns.TypeTXT}}
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, enginetest.Client{Addr: up.Addr}, link)})
	for qtype, want := range map[uint16]int{dns.TypeTXT: dns.RcodeSuccess, dns.TypeA: dns.RcodeSuccess, dns.TypeMX: dns.RcodeNameError} {
		resp, err := resolveOne(t, e, "fabrikam.privatelink.example", qtype)
		if err != nil || resp.Rcode != want {
			t.Errorf("%s with fallbackTypes [TXT]: %v %v, want %s", dns.TypeToString[qtype], resp, err, dns.RcodeToString[want])
		}
	}
}

func TestFallbackSkipsRulesForTheZonesOwnNamespace(t *testing.T) {
	public := resolvertest.StartPublic(t, "x.corp.example. 60 IN A 192.0.2.10")
	onprem := resolvertest.StartPublic(t, "x.corp.example. 60 IN A 10.9.9.9", "y.other.example. 60 IN A 10.9.9.8")
	z := resolvertest.Zone(t, "corp.example", "www 60 IN A 10.0.0.1")
	v, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(t, "127.0.0.0/8")}},
		Links:    []resolver.Link{{Name: "l", Network: "n", Zone: z, Policy: resolver.PolicyNxDomainRedirect}},
		Rules: []resolver.Route{
			{Name: "same", Domain: "corp.example.", Networks: []string{"n"}, Upstream: enginetest.Client{Addr: onprem.Addr}},
			{Name: "under", Domain: "x.corp.example.", Networks: []string{"n"}, Upstream: enginetest.Client{Addr: onprem.Addr}},
		},
		Default: enginetest.Client{Addr: public.Addr},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := resolveOne(t, resolver.NewEngine(resolver.EngineOptions{View: v}), "x.corp.example", dns.TypeA)
	if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "192.0.2.10" {
		t.Fatalf("fallback answered %v (%v), want the public 192.0.2.10: the zone's misses never reach its namespace's rules", resp, err)
	}
	if onprem.Hits() != 0 {
		t.Errorf("the rule for the zone's namespace was asked %d times", onprem.Hits())
	}
}

func TestUpstreamFailureIsAnError(t *testing.T) {
	refuse := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeRefused)
		w.WriteMsg(m)
	})
	up := resolvertest.New(t, refuse)
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, enginetest.Client{Addr: up.Addr})})
	if _, err := resolveOne(t, e, "www.example.com", dns.TypeA); err == nil {
		t.Error("REFUSED upstream gave an answer, want an error (SERVFAIL)")
	}
}

func TestSwapIsSeenByTheNextQuery(t *testing.T) {
	old := resolvertest.Zone(t, "corp.example", "www 60 IN A 10.0.0.1")
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, nil, resolver.Link{Zone: old})})
	if resp, _ := resolveOne(t, e, "www.corp.example", dns.TypeA); resp.Answer[0].(*dns.A).A.String() != "10.0.0.1" {
		t.Fatalf("before swap: %v", resp.Answer)
	}
	updated := resolvertest.Zone(t, "corp.example", "www 60 IN A 10.0.0.2")
	e.Swap(enginetest.OneNetwork(t, nil, resolver.Link{Zone: updated}))
	if resp, _ := resolveOne(t, e, "www.corp.example", dns.TypeA); resp.Answer[0].(*dns.A).A.String() != "10.0.0.2" {
		t.Fatalf("after swap: %v", resp.Answer)
	}
}

func TestDNSSECSignaturesOnTheChainAreKept(t *testing.T) {
	signed := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		add := func(s string) dns.RR { rr, _ := dns.NewRR(s); return rr }
		m.Answer = []dns.RR{
			add("www.example.com. 60 IN A 192.0.2.1"),
			add("www.example.com. 60 IN RRSIG A 13 3 60 20300101000000 20200101000000 12345 example.com. c2lnbmF0dXJl"),
			add("www.example.com. 60 IN RRSIG TXT 13 3 60 20300101000000 20200101000000 12345 example.com. c2lnbmF0dXJl"),
		}
		w.WriteMsg(m)
	})
	up := resolvertest.New(t, signed)
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, enginetest.Client{Addr: up.Addr})})
	for _, do := range []bool{false, true} {
		m := resolvertest.Query("www.example.com", dns.TypeA)
		m.IsEdns0().SetDo(do)
		resp, err := e.Resolve(context.Background(), &resolver.Query{Msg: m, Client: netip.MustParseAddr("127.0.0.1")})
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if do {
			want = 2 // the A record and its RRSIG, not the TXT signature
		}
		if len(resp.Answer) != want {
			t.Errorf("DO=%v: %d answer records, want %d: %v", do, len(resp.Answer), want, resp.Answer)
		}
	}
}

func TestPublicNXDOMAINCarriesTheSOAOfTheNamesZone(t *testing.T) {
	up := resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		add := func(s string) dns.RR { rr, _ := dns.NewRR(s); return rr }
		m.Ns = []dns.RR{
			add("unrelated.org. 40 IN SOA ns.unrelated.org. host.unrelated.org. 1 3600 600 86400 40"),
			add("example.com. 60 IN NS ns.example.com."),
			add("example.com. 300 IN SOA ns.example.com. host.example.com. 1 3600 600 86400 300"),
		}
		w.WriteMsg(m)
	}))
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, enginetest.Client{Addr: up.Addr})})
	resp, err := resolveOne(t, e, "nx.example.com", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Rcode != dns.RcodeNameError || len(resp.Ns) != 1 || resp.Ns[0].Header().Name != "example.com." {
		t.Errorf("rcode %s authority %v, want NXDOMAIN with example.com.'s SOA alone", dns.RcodeToString[resp.Rcode], resp.Ns)
	}
}

func TestNegativeAnswersKeepTheirDNSSECProofsForDO(t *testing.T) {
	up := resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		add := func(s string) dns.RR { rr, _ := dns.NewRR(s); return rr }
		m.Ns = []dns.RR{
			add("example.com. 300 IN SOA ns.example.com. host.example.com. 1 3600 600 86400 300"),
			add("example.com. 300 IN RRSIG SOA 13 2 300 20300101000000 20200101000000 1 example.com. AAAA"),
			add("mx.example.com. 300 IN NSEC ny.example.com. A RRSIG NSEC"),
			add("mx.example.com. 300 IN RRSIG NSEC 13 3 300 20300101000000 20200101000000 1 example.com. AAAA"),
			add("other.org. 300 IN NSEC z.other.org. A"), // another zone's
			add("example.com. 300 IN RRSIG NS 13 2 300 20300101000000 20200101000000 1 example.com. AAAA"),
		}
		w.WriteMsg(m)
	}))
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, enginetest.Client{Addr: up.Addr})})
	for _, do := range []bool{false, true} {
		m := resolvertest.Query("nx.example.com", dns.TypeA)
		m.IsEdns0().SetDo(do)
		resp, err := e.Resolve(context.Background(), &resolver.Query{Msg: m, Client: netip.MustParseAddr("127.0.0.1")})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, rr := range resp.Ns {
			types = append(types, dns.TypeToString[rr.Header().Rrtype])
		}
		want := "SOA"
		if do {
			want = "SOA RRSIG NSEC RRSIG"
		}
		if got := strings.Join(types, " "); resp.Rcode != dns.RcodeNameError || got != want {
			t.Errorf("DO=%v: %s with authority %s, want NXDOMAIN with %s", do, dns.RcodeToString[resp.Rcode], got, want)
		}
	}
}
