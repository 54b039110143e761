package dnsserver

import (
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/resolver/upstream"
)

// A stale answer through the whole listener: the old record at TTL 30
// with EDE 3 (RFC 8767) when the upstream has died.
func TestStaleAnswerWhenTheUpstreamDies(t *testing.T) {
	clock := resolvertest.NewClock(time.Unix(1_800_000_000, 0))
	up := resolvertest.StartPublic(t, "www.example.com. 60 IN A 192.0.2.1")
	g, err := upstream.NewGroup(upstream.GroupOptions{Targets: []string{up.Addr}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	c, err := cache.New(cache.Options{MaxEntries: 10, ServeStale: true, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(t, "127.0.0.0/8")}},
		Default:  c.Wrap("upstreams", g),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := resolver.NewEngine(resolver.EngineOptions{View: v})
	l := startHandler(t, Options{Engine: e, Now: clock.Now})

	if m := resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", l.Addr, resolvertest.Query("www.example.com", dns.TypeA)); m.Rcode != dns.RcodeSuccess {
		t.Fatalf("fresh: %v", m)
	}
	up.Close()
	clock.Advance(10 * time.Minute)
	m := resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", l.Addr, resolvertest.Query("www.example.com", dns.TypeA))
	c.Wait()
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || m.Answer[0].Header().Ttl != 30 {
		t.Fatalf("stale: want the old A with TTL 30, got %v", m)
	}
	var codes []uint16
	for _, o := range m.IsEdns0().Option {
		if ede, ok := o.(*dns.EDNS0_EDE); ok {
			codes = append(codes, ede.InfoCode)
		}
	}
	if !slices.Equal(codes, []uint16{dns.ExtendedErrorCodeStaleAnswer}) {
		t.Errorf("EDE codes %v, want [3]", codes)
	}
	if st := c.Stats(); st.StaleServed != 1 {
		t.Errorf("stale served %d, want 1", st.StaleServed)
	}
}
