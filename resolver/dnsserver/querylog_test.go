package dnsserver

import (
	"encoding/json"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"

	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/upstream"
)

func TestQueryLogSaysHowEachQueryWasAnswered(t *testing.T) {
	up := resolvertest.StartPublic(t,
		"www.example.com. 300 IN A 192.0.2.1",
		"fabrikam.privatelink.example. 300 IN A 192.0.2.2")
	c, err := cache.New(cache.Options{MaxEntries: 100})
	if err != nil {
		t.Fatal(err)
	}
	group, err := upstream.NewGroup(upstream.GroupOptions{Targets: []string{up.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer group.Close()
	z := resolvertest.Zone(t, "privatelink.example", "contoso 60 IN A 10.0.0.1")
	view, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "vnet-a", Prefixes: resolvertest.Prefixes(t, "127.0.1.0/24")}},
		Links:    []resolver.Link{{Name: "a-link", Network: "vnet-a", Zone: z, Policy: resolver.PolicyNxDomainRedirect}},
		Default:  c.Wrap("", group),
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf resolvertest.LogBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	l := startHandler(t, Options{
		Engine: resolver.NewEngine(resolver.EngineOptions{View: view}), Logger: log,
		Settings: Settings{QueryLog: true, QuerySampling: 1, Identity: "log-1"},
	})
	chaos := func() *dns.Msg {
		m := resolvertest.Query("id.server", dns.TypeTXT)
		m.Question[0].Qclass = dns.ClassCHAOS
		return m
	}
	notify := func() *dns.Msg {
		m := resolvertest.Query("www.example.com", dns.TypeSOA)
		m.Opcode = dns.OpcodeNotify
		return m
	}
	steps := []struct {
		src, qname, wantPath, wantRcode, wantType string
		m                                         *dns.Msg // nil: qname A over UDP
		proto                                     string
	}{
		{"127.0.1.5", "www.example.com", "public", "NOERROR", "A", nil, "udp"},
		{"127.0.1.5", "www.example.com", "cache", "NOERROR", "A", nil, "udp"},
		{"127.0.1.5", "contoso.privatelink.example", "private", "NOERROR", "A", nil, "udp"},
		{"127.0.1.5", "fabrikam.privatelink.example", "fallback", "NOERROR", "A", nil, "udp"},
		{"127.0.9.5", "www.example.com", "local", "REFUSED", "A", nil, "udp"},
		// Answered without resolving, still one line each.
		{"127.0.1.5", "id.server", "local", "NOERROR", "TXT", chaos(), "udp"},
		{"127.0.1.5", "www.example.com", "transfer", "NOTAUTH", "SOA", notify(), "udp"},
		{"127.0.1.5", "example.com", "transfer", "REFUSED", "AXFR", resolvertest.Query("example.com", dns.TypeAXFR), "tcp"},
	}
	for _, s := range steps {
		m := s.m
		if m == nil {
			m = resolvertest.Query(s.qname, dns.TypeA)
		}
		resolvertest.ExchangeFrom(t, s.proto, s.src, l.Addr, m)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(steps) {
		t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(steps), buf.String())
	}
	for i, s := range steps {
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["msg"] != "query" || rec["path"] != s.wantPath || rec["rcode"] != s.wantRcode ||
			rec["name"] != dns.Fqdn(s.qname) || rec["type"] != s.wantType || rec["client"] != netip.MustParseAddr(s.src).String() {
			t.Errorf("line %d = %v, want path %s rcode %s for %s", i, rec, s.wantPath, s.wantRcode, s.qname)
		}
	}
	if rec := lines[0]; !strings.Contains(rec, `"network":"vnet-a"`) || !strings.Contains(rec, `"route":"upstreams"`) ||
		!strings.Contains(rec, `"upstream":"`+up.Addr+`"`) {
		t.Errorf("first line lacks network, route or the upstream that answered (%s): %s", up.Addr, rec)
	}
	if rec := lines[1]; !strings.Contains(rec, `"upstream":""`) {
		t.Errorf("a cache hit names an upstream: %s", rec)
	}
}

func TestQueryLogOffOrUnsampledWritesNothing(t *testing.T) {
	w := enginetest.New(t, true)
	for _, set := range []Settings{{QueryLog: false, QuerySampling: 1}, {QueryLog: true, QuerySampling: 0}} {
		var buf resolvertest.LogBuffer
		l := startHandler(t, Options{Engine: w.Engine, Logger: slog.New(slog.NewTextHandler(&buf, nil)), Settings: set})
		for i := 0; i < 5; i++ {
			resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query("www.corp.example", dns.TypeA))
		}
		if buf.Len() != 0 {
			t.Errorf("%+v: logged %q", set, buf.String())
		}
	}
}

// A stale answer is logged while the refresh it started still waits on a
// slow upstream: the refresh must not write into the logged query (the race
// detector fails this test otherwise), and a later query that waits for a
// refresh still learns which upstream answered it.
func TestQueryLogOfAStaleAnswerIsNotWrittenByItsRefresh(t *testing.T) {
	gate := make(chan struct{})
	var slow atomic.Bool
	pub := resolvertest.MustPublic("www.example.com. 60 IN A 192.0.2.1", "late.example.com. 60 IN A 192.0.2.2")
	up := resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if slow.Load() {
			<-gate
		}
		pub.ServeDNS(w, r)
	}))
	clock := resolvertest.NewClock(time.Unix(1e9, 0))
	fire := make(chan time.Time, 1)
	fire <- time.Time{} // the stale timer fires at once
	c, err := cache.New(cache.Options{MaxEntries: 100, ServeStale: true, Now: clock.Now,
		After: func(time.Duration) <-chan time.Time { return fire }})
	if err != nil {
		t.Fatal(err)
	}
	group, err := upstream.NewGroup(upstream.GroupOptions{Targets: []string{up.Addr}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer group.Close()
	view, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "vnet-a", Prefixes: resolvertest.Prefixes(t, "127.0.1.0/24")}},
		Default:  c.Wrap("", group),
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf resolvertest.LogBuffer
	l := startHandler(t, Options{
		Engine: resolver.NewEngine(resolver.EngineOptions{View: view}), Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
		Settings: Settings{QueryLog: true, QuerySampling: 1},
	})
	resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query("www.example.com", dns.TypeA))
	clock.Advance(2 * time.Minute)
	slow.Store(true)
	if m := resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query("www.example.com", dns.TypeA)); len(m.Answer) != 1 || m.Answer[0].Header().Ttl != 30 {
		t.Fatalf("want the stale answer, got %v", m)
	}
	slow.Store(false)
	close(gate)
	// Joins the refresh if it still runs (the stale timer has fired
	// already), or hits what it stored.
	if m := resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query("www.example.com", dns.TypeA)); len(m.Answer) != 1 || m.Answer[0].Header().Ttl == 30 {
		t.Fatalf("want the refreshed answer, got %v", m)
	}
	resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query("late.example.com", dns.TypeA))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d log lines, want 4:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[1], `"path":"stale"`) || !strings.Contains(lines[1], `"upstream":""`) {
		t.Errorf("the stale answer's line: %s", lines[1])
	}
	if !strings.Contains(lines[3], `"path":"public"`) || !strings.Contains(lines[3], `"upstream":"`+up.Addr+`"`) {
		t.Errorf("a miss that waited for its refresh does not name the upstream %s: %s", up.Addr, lines[3])
	}
}
