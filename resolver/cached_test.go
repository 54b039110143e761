package resolver

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/upstream"
)

// fixedClock is a settable clock for caches under test.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fixedClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// cachedWorld is newWorld with every public route behind one shared cache,
// as privdns runs it.
func cachedWorld(t *testing.T, clock *fixedClock) (*world, *cache.Cache) {
	t.Helper()
	return cachedWorldWith(t, clock, true)
}

func cachedWorldWith(t *testing.T, clock *fixedClock, prefetch bool) (*world, *cache.Cache) {
	t.Helper()
	w := newWorld(t, true)
	c, err := cache.New(cache.Options{MaxEntries: 1000, ServeStale: true, Prefetch: prefetch, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Wait)
	old := w.engine.View()
	wrap := func(route string, ex Exchanger) Exchanger { return c.Wrap(route, ex) }
	v, err := NewView(ViewOptions{
		Networks: viewNetworks(old), Links: viewLinks(old), Rules: viewRules(old, wrap),
		Default: wrap("upstreams", old.def.Upstream), Explain: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &world{engine: NewEngine(EngineOptions{View: v}), public: w.public, onprem: w.onprem, bob: w.bob, alice: w.alice, cat: w.cat}, c
}

// The view helpers rebuild a View's options from the View, so the cached
// world has exactly the uncached world's networks, links and rules.
func viewNetworks(v *View) []Network {
	index := map[string]int{}
	var out []Network
	for _, p := range v.prefixes {
		i, ok := index[p.net.name]
		if !ok {
			i = len(out)
			index[p.net.name] = i
			out = append(out, Network{Name: p.net.name})
		}
		out[i].Prefixes = append(out[i].Prefixes, p.prefix)
	}
	return out
}

func viewLinks(v *View) []Link {
	var out []Link
	for _, nv := range v.nets {
		for _, z := range nv.zones {
			out = append(out, z.link)
		}
	}
	return out
}

func viewRules(v *View, wrap func(string, Exchanger) Exchanger) []Route {
	seen := map[*Route]bool{}
	var out []Route
	for _, nv := range v.nets {
		for _, r := range nv.rules {
			if !seen[r] {
				seen[r] = true
				c := *r
				c.Upstream = wrap(r.Name, r.Upstream)
				out = append(out, c)
			}
		}
	}
	return out
}

// summary is everything a client sees of an answer, in a comparable form.
func summary(resp *dns.Msg, err error) string {
	if err != nil {
		return "SERVFAIL"
	}
	parts := []string{dns.RcodeToString[resp.Rcode]}
	parts = append(parts, rrStrings(resp.Answer)...)
	parts = append(parts, "|")
	// A cached negative answer's SOA carries its negative TTL (RFC 2308
	// §3), min(SOA TTL, MINIMUM); compare uncached ones the same way.
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			c := *soa
			c.Hdr.Ttl = min(c.Hdr.Ttl, c.Minttl)
			rr = &c
		}
		parts = append(parts, rrStrings([]dns.RR{rr})...)
	}
	parts = append(parts, edeTexts(resp)...)
	return strings.Join(parts, "\n")
}

func TestCacheNeverChangesAnAnswer(t *testing.T) {
	clock := &fixedClock{now: time.Unix(1_800_000_000, 0)}
	plain := newWorld(t, true)
	cached, c := cachedWorld(t, clock)
	names := []string{
		"contoso.blob.core.windows.net", "fabrikam.blob.core.windows.net", "gone.blob.core.windows.net",
		"kv1.vault.azure.net", "www.contoso.com", "www.example.com", "disabled.example",
		"contoso.privatelink.blob.core.windows.net", "fabrikam.privatelink.blob.core.windows.net",
		"www.dev.corp.example", "app.corp.example", "ext.contoso.com", "nothing.example.com",
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCNAME}
	froms := []netip.Addr{plain.bob, plain.alice, plain.cat, plain.cat, plain.alice, plain.bob}
	compared := 0
	// Three rounds: the first fills the cache in one network's order, the
	// next ones are answered from it in other networks' orders.
	for round := 0; round < 3; round++ {
		for i, name := range names {
			for j, qtype := range types {
				from := froms[(i+j+round)%len(froms)]
				for _, from := range []netip.Addr{from, plain.bob, plain.alice, plain.cat} {
					q := func() *Query { return &Query{Msg: query(name, qtype), Client: from} }
					want := summary(plain.engine.Resolve(context.Background(), q()))
					got := summary(cached.engine.Resolve(context.Background(), q()))
					if got != want {
						t.Errorf("round %d, %s %s from %s:\ncache on:\n%s\ncache off:\n%s", round, name, dns.TypeToString[qtype], from, got, want)
					}
					compared++
				}
			}
		}
	}
	st := c.Stats()
	if st.Hits == 0 || st.Hits < st.Misses {
		t.Errorf("cache stats %+v: the comparison must mostly run on hits", st)
	}
	t.Logf("%d answers compared; cache %+v", compared, st)
}

func TestStaleAnswerWhenTheUpstreamDies(t *testing.T) {
	clock := &fixedClock{now: time.Unix(1_800_000_000, 0)}
	up := startPublic(t, "www.example.com. 60 IN A 192.0.2.1")
	g, err := upstream.NewGroup(upstream.GroupOptions{Targets: []string{up.Addr}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	c, err := cache.New(cache.Options{MaxEntries: 10, ServeStale: true, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(EngineOptions{View: oneNetView(t, c.Wrap("upstreams", g))})
	l := startHandler(t, HandlerOptions{Resolver: e, Now: clock.Now})

	if m := exchangeFrom(t, "udp", "127.0.0.5", l.Addr, query("www.example.com", dns.TypeA)); m.Rcode != dns.RcodeSuccess {
		t.Fatalf("fresh: %v", m)
	}
	up.Close()
	clock.advance(10 * time.Minute)
	m := exchangeFrom(t, "udp", "127.0.0.5", l.Addr, query("www.example.com", dns.TypeA))
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
