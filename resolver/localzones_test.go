package resolver_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// asked is a public route that answers from records and keeps every name
// it was asked.
type asked struct {
	pub   *resolvertest.Public
	mu    sync.Mutex
	names []string
}

func (a *asked) Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	a.mu.Lock()
	a.names = append(a.names, req.Question[0].Name)
	a.mu.Unlock()
	return a.pub.Exchange(ctx, req)
}

func (a *asked) took() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.names
	a.names = nil
	return out
}

// The list of SPEC §10, exactly: RFC 6303 §4.1–§4.6.
func TestLocalZoneNamesAreRFC6303s(t *testing.T) {
	want := []string{"10.in-addr.arpa."}
	for _, n := range strings.Fields("16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31") {
		want = append(want, n+".172.in-addr.arpa.")
	}
	want = append(want, "168.192.in-addr.arpa.", "0.in-addr.arpa.", "127.in-addr.arpa.", "254.169.in-addr.arpa.",
		"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.", "255.255.255.255.in-addr.arpa.",
		"d.f.ip6.arpa.", "8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
		"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.")
	if !slices.Equal(resolver.LocalZoneNames, want) {
		t.Errorf("local zones\n got %q\nwant %q", resolver.LocalZoneNames, want)
	}
}

func TestLocallyServedZones(t *testing.T) {
	up := &asked{pub: resolvertest.MustPublic(
		"arpa. 3600 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400",
		"4.3.2.1.in-addr.arpa. 300 IN PTR public.example.",
		"5.1.10.in-addr.arpa. 300 IN PTR onprem.corp.",
		"9.9.16.172.in-addr.arpa. 300 IN PTR above.corp.",
	)}
	linked := resolvertest.Zone(t, "2.10.in-addr.arpa", "5 60 IN PTR vm.corp.internal.")
	opts := resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(t, "127.0.1.0/24")}},
		Links:    []resolver.Link{{Name: "l", Network: "n", Zone: linked}},
		Rules: []resolver.Route{
			{Name: "all/.", Domain: ".", Networks: []string{"n"}, Upstream: up},
			{Name: "onprem/1.10", Domain: "1.10.in-addr.arpa.", Networks: []string{"n"}, Upstream: up},
			{Name: "above/172", Domain: "172.in-addr.arpa.", Networks: []string{"n"}, Upstream: up},
		},
		Default:    up,
		LocalZones: true,
	}
	v, err := resolver.NewView(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := resolver.NewEngine(resolver.EngineOptions{View: v})
	const soa = "@ 10800 IN SOA @ nobody.invalid. 1 604800 86400 2419200 10800"
	loopback6, _ := dns.ReverseAddr("::1")
	unspecified6, _ := dns.ReverseAddr("::")
	for _, tc := range []struct {
		name      string
		qname     string
		qtype     uint16
		wantRcode int
		wantAns   []string
		wantNs    []string // "@" is the zone
		zone      string
		wantAsked bool
	}{
		{"below the apex: NXDOMAIN, even with a . rule", "5.3.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, []string{soa}, "10.in-addr.arpa.", false},
		{"in capitals", "5.3.10.IN-ADDR.ARPA.", dns.TypePTR, dns.RcodeNameError, nil, []string{soa}, "10.in-addr.arpa.", false},
		{"at the apex: NODATA", "168.192.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, nil, []string{soa}, "168.192.in-addr.arpa.", false},
		{"the apex's SOA", "127.in-addr.arpa.", dns.TypeSOA, dns.RcodeSuccess, []string{soa}, nil, "127.in-addr.arpa.", false},
		{"loopback", "1.0.0.127.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, []string{soa}, "127.in-addr.arpa.", false},
		{"IPv6 link-local", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa.", dns.TypePTR, dns.RcodeNameError, nil, []string{soa}, "8.e.f.ip6.arpa.", false},
		{"::1", loopback6, dns.TypePTR, dns.RcodeSuccess, nil, []string{soa}, loopback6, false},
		{"::", unspecified6, dns.TypePTR, dns.RcodeSuccess, nil, []string{soa}, unspecified6, false},
		{"documentation prefix", "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", dns.TypeA, dns.RcodeNameError, nil, []string{soa}, "8.b.d.0.1.0.0.2.ip6.arpa.", false},
		{"a linked zone covers it", "5.2.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"5.2.10.in-addr.arpa. 60 IN PTR vm.corp.internal."}, nil, "", false},
		{"a rule inside the zone covers it", "5.1.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"5.1.10.in-addr.arpa. 300 IN PTR onprem.corp."}, nil, "", true},
		{"a rule above the zone does not count", "9.9.16.172.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, []string{soa}, "16.172.in-addr.arpa.", false},
		{"a public reverse name goes public", "4.3.2.1.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"4.3.2.1.in-addr.arpa. 300 IN PTR public.example."}, nil, "", true},
		{"100.64/10 is not in the list", "1.0.64.100.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &resolver.Query{Msg: resolvertest.Query(tc.qname, tc.qtype), Client: netip.MustParseAddr("127.0.1.1")}
			resp, err := e.Resolve(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Rcode != tc.wantRcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.wantRcode])
			}
			if resp.Authoritative {
				t.Error("AA set")
			}
			expand := func(lines []string) []string {
				var out []string
				for _, l := range lines {
					out = append(out, strings.ReplaceAll(l, "@", tc.zone))
				}
				return resolvertest.ParseLines(t, out)
			}
			if got, want := resolvertest.RRStrings(resp.Answer), expand(tc.wantAns); !slices.Equal(got, want) {
				t.Errorf("answer %q, want %q", got, want)
			}
			if tc.zone != "" {
				if got, want := resolvertest.RRStrings(resp.Ns), expand(tc.wantNs); !slices.Equal(got, want) {
					t.Errorf("authority %q, want %q", got, want)
				}
				if q.Path != "localzone" {
					t.Errorf("path %q, want localzone", q.Path)
				}
			}
			if got := up.took(); (len(got) > 0) != tc.wantAsked {
				t.Errorf("upstream asked %q, want asked: %v", got, tc.wantAsked)
			}
		})
	}

	opts.LocalZones = false // server.localZones: false
	off, err := resolver.NewView(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.Swap(off)
	if _, err := e.Resolve(context.Background(), &resolver.Query{Msg: resolvertest.Query("5.3.10.in-addr.arpa.", dns.TypePTR), Client: netip.MustParseAddr("127.0.1.1")}); err != nil {
		t.Fatal(err)
	}
	if got := up.took(); len(got) != 1 {
		t.Errorf("with local zones off, upstream asked %q, want the name once", got)
	}
}
