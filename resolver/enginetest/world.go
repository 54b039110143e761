// Package enginetest builds the world the tests above the resolver share:
// an Engine over Bob's, Alice's and Cat's networks, private zones linked
// with both policies, a forwarding ruleset, and fake public and
// on-premises DNS servers on loopback answering Azure-style CNAME chains.
//
// Sharp edge: the networks are 127.0.1.0/24 (Bob), 127.0.2.0/24 (Alice)
// and 127.0.3.0/24 (Cat); a test that asks from another source address
// asks as a client in no network.
package enginetest

import (
	"fmt"
	"net/netip"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// The public internet of the tests: Azure-style CNAME chains into
// privatelink names, as public resolvers answer them.
var PublicRecords = []string{
	"core.windows.net. 3600 IN SOA ns1-01.azure-dns.com. azuredns-hostmaster.microsoft.com. 1 3600 300 2419200 300",
	"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net.",
	"contoso.privatelink.blob.core.windows.net. 60 IN CNAME blob.bn9prdstr08a.store.core.windows.net.",
	"blob.bn9prdstr08a.store.core.windows.net. 60 IN A 20.150.1.1",
	"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net.",
	"fabrikam.privatelink.blob.core.windows.net. 60 IN CNAME blob.xyz01prdstr02a.store.core.windows.net.",
	"blob.xyz01prdstr02a.store.core.windows.net. 60 IN A 20.60.2.2",
	"fabrikam.privatelink.blob.core.windows.net. 60 IN TXT \"public txt\"",
	"gone.blob.core.windows.net. 60 IN CNAME gone.privatelink.blob.core.windows.net.",
	"azure.net. 3600 IN SOA ns1-01.azure-dns.com. azuredns-hostmaster.microsoft.com. 1 3600 300 2419200 300",
	"kv1.vault.azure.net. 60 IN CNAME kv1.privatelink.vaultcore.azure.net.",
	"kv1.privatelink.vaultcore.azure.net. 60 IN CNAME data-prod-weu.vaultcore.azure.net.",
	"data-prod-weu.vaultcore.azure.net. 60 IN A 52.1.1.1",
	"www.example.com. 300 IN A 93.184.215.14",
	"www.contoso.com. 300 IN CNAME app.corp.contoso.com.",
	"ext.contoso.com. 300 IN CNAME www.example.com.",
	"disabled.example. 300 IN A 192.0.2.80",
	"app.corp.example. 300 IN A 192.0.2.99",
}

// OnpremRecords are only known to the on-premises servers of the
// forwarding ruleset.
var OnpremRecords = []string{
	"app.corp.contoso.com. 300 IN A 10.10.1.1",
	"disabled.example. 300 IN A 10.10.9.9",
	"contoso.privatelink.blob.core.windows.net. 300 IN A 10.10.6.6",
}

// World is the shared test world.
type World struct {
	Engine          *resolver.Engine
	Public, Onprem  *resolvertest.Server
	Bob, Alice, Cat netip.Addr // one client of each network
	// Options built the Engine's View (routes as plain clients of the
	// fake servers), for tests that build variants of it.
	Options resolver.ViewOptions
}

// The networks of the world.
const (
	BobNet   = "127.0.1.0/24" // vnet-bob: links with Default
	AliceNet = "127.0.2.0/24" // vnet-alice: links with NxDomainRedirect
	CatNet   = "127.0.3.0/24" // vnet-cat: no links at all
)

// New builds the world; explain turns the R8 texts on.
func New(t resolvertest.TB, explain bool) *World {
	t.Helper()
	w := &World{
		Public: resolvertest.StartPublic(t, PublicRecords...),
		Onprem: resolvertest.StartPublic(t, OnpremRecords...),
		Bob:    netip.MustParseAddr("127.0.1.10"),
		Alice:  netip.MustParseAddr("127.0.2.10"),
		Cat:    netip.MustParseAddr("127.0.3.10"),
	}
	blob := resolvertest.Zone(t, "privatelink.blob.core.windows.net",
		"contoso 10 IN A 10.1.0.5",
		"alias 10 IN CNAME contoso",
		"loop1 10 IN CNAME loop2",
		"loop2 10 IN CNAME loop1",
		"out 10 IN CNAME www.example.com.",
		"inside 10 IN CNAME nothere",
	)
	vault := resolvertest.Zone(t, "privatelink.vaultcore.azure.net", "kv1 10 IN A 10.1.0.7")
	corp := resolvertest.Zone(t, "corp.example", "www 300 IN A 10.2.0.1", "app 300 IN A 10.2.0.2")
	dev := resolvertest.Zone(t, "dev.corp.example", "www 300 IN A 10.3.0.1")
	var chain []string
	for i := 0; i < 12; i++ {
		chain = append(chain, fmt.Sprintf("c%d 10 IN CNAME c%d", i, i+1))
	}
	chain = append(chain, "c12 10 IN A 10.9.9.9")
	long := resolvertest.Zone(t, "chain.example", chain...)

	w.Options = resolver.ViewOptions{
		Networks: []resolver.Network{
			{Name: "vnet-bob", Prefixes: resolvertest.Prefixes(t, BobNet)},
			{Name: "vnet-alice", Prefixes: resolvertest.Prefixes(t, AliceNet)},
			{Name: "vnet-cat", Prefixes: resolvertest.Prefixes(t, CatNet)},
		},
		Links: []resolver.Link{
			{Name: "bob-link", Network: "vnet-bob", Zone: blob},
			{Name: "bob-vault", Network: "vnet-bob", Zone: vault},
			{Name: "bob-corp", Network: "vnet-bob", Zone: corp},
			{Name: "bob-dev", Network: "vnet-bob", Zone: dev},
			{Name: "bob-chain", Network: "vnet-bob", Zone: long},
			{Name: "alice-link", Network: "vnet-alice", Zone: blob, Policy: resolver.PolicyNxDomainRedirect},
			{Name: "alice-vault", Network: "vnet-alice", Zone: vault, Policy: resolver.PolicyNxDomainRedirect},
		},
		Rules: []resolver.Route{
			{Name: "onprem/corp.contoso.com.", Domain: "corp.contoso.com.", Networks: []string{"vnet-bob", "vnet-alice"}, Upstream: Client{Addr: w.Onprem.Addr}},
			{Name: "onprem/privatelink.blob.core.windows.net.", Domain: "privatelink.blob.core.windows.net.", Networks: []string{"vnet-bob", "vnet-cat"}, Upstream: Client{Addr: w.Onprem.Addr}},
			{Name: "onprem/disabled.example.", Domain: "disabled.example.", Networks: []string{"vnet-bob"}, Disabled: true, Upstream: Client{Addr: w.Onprem.Addr}},
		},
		Default: Client{Addr: w.Public.Addr},
		Explain: explain,
	}
	w.Engine = resolver.NewEngine(resolver.EngineOptions{View: mustView(t, w.Options)})
	return w
}

// Cached is New (with explain) with every public route behind one shared
// cache, as privdns runs it, on clock; prefetch as the cache option.
func Cached(t resolvertest.TB, clock *resolvertest.Clock, prefetch bool) (*World, *cache.Cache) {
	t.Helper()
	w := New(t, true)
	c, err := cache.New(cache.Options{MaxEntries: 1000, ServeStale: true, Prefetch: prefetch, Now: clock.Now})
	if err != nil {
		t.Fatalf("cache: %v", err)
	}
	t.Cleanup(c.Wait)
	w.Options = Wrap(w.Options, func(route string, ex resolver.Exchanger) resolver.Exchanger { return c.Wrap(route, ex) })
	w.Engine = resolver.NewEngine(resolver.EngineOptions{View: mustView(t, w.Options)})
	return w, c
}

// Wrap returns opts with every route's Upstream (the default and each
// rule's) wrapped by wrap.
func Wrap(opts resolver.ViewOptions, wrap func(route string, ex resolver.Exchanger) resolver.Exchanger) resolver.ViewOptions {
	opts.Default = wrap("upstreams", opts.Default)
	rules := make([]resolver.Route, len(opts.Rules))
	for i, r := range opts.Rules {
		r.Upstream = wrap(r.Name, r.Upstream)
		rules[i] = r
	}
	opts.Rules = rules
	return opts
}

func mustView(t resolvertest.TB, opts resolver.ViewOptions) *resolver.View {
	t.Helper()
	v, err := resolver.NewView(opts)
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	return v
}

// OneNetwork builds a View with one network, "n" (127.0.0.0/8), the given
// links (each put in "n", named "link" when unnamed), def as the default
// upstreams, and explain on.
func OneNetwork(t resolvertest.TB, def resolver.Exchanger, links ...resolver.Link) *resolver.View {
	t.Helper()
	for i := range links {
		links[i].Network = "n"
		if links[i].Name == "" {
			links[i].Name = "link"
		}
	}
	return mustView(t, resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(t, "127.0.0.0/8")}},
		Links:    links, Default: def, Explain: true,
	})
}

// Bench is the benchmarks' Engine: privatelink.blob.example linked
// (contoso has an A record) to one network, 127.0.0.0/8, privatelink.fb.example
// linked with NxDomainRedirect (fabrikam is missing there and public), and
// everything else answered by an in-process public resolver behind a cache
// (www.example.com, and contoso.blob.example, a CNAME into the zone).
func Bench(t resolvertest.TB) *resolver.Engine {
	t.Helper()
	pub := resolvertest.MustPublic(
		"www.example.com. 300 IN A 93.184.215.14",
		"contoso.blob.example. 300 IN CNAME contoso.privatelink.blob.example.",
		"fabrikam.privatelink.fb.example. 300 IN A 198.51.100.1",
	)
	c, err := cache.New(cache.Options{MaxEntries: 1000})
	if err != nil {
		t.Fatalf("cache: %v", err)
	}
	z := resolvertest.Zone(t, "privatelink.blob.example", "contoso 10 IN A 10.0.0.1")
	fb := resolvertest.Zone(t, "privatelink.fb.example", "only 10 IN A 10.0.0.2")
	return resolver.NewEngine(resolver.EngineOptions{View: mustView(t, resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(t, "127.0.0.0/8")}},
		Links: []resolver.Link{
			{Name: "l", Network: "n", Zone: z},
			{Name: "fb", Network: "n", Zone: fb, Policy: resolver.PolicyNxDomainRedirect},
		},
		Default: c.Wrap("upstreams", pub),
		Explain: true,
	})})
}
