package resolver

import (
	"context"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// benchEngine answers privatelink names privately and everything else
// from an in-process public resolver behind the cache.
func benchEngine(b *testing.B) *Engine {
	pub := resolvertest.MustPublic(
		"www.example.com. 300 IN A 93.184.215.14",
		"contoso.blob.example. 300 IN CNAME contoso.privatelink.blob.example.",
	)
	c, err := cache.New(cache.Options{MaxEntries: 1000})
	if err != nil {
		b.Fatal(err)
	}
	z := resolvertest.Zone(b, "privatelink.blob.example", "contoso 10 IN A 10.0.0.1")
	v, err := NewView(ViewOptions{
		Networks: []Network{{Name: "n", Prefixes: resolvertest.Prefixes(b, "127.0.0.0/8")}},
		Links:    []Link{{Name: "l", Network: "n", Zone: z}},
		Default:  c.Wrap("upstreams", pub),
		Explain:  true,
	})
	if err != nil {
		b.Fatal(err)
	}
	return NewEngine(EngineOptions{View: v})
}

func benchResolve(b *testing.B, name string) {
	e := benchEngine(b)
	q := &Query{Msg: resolvertest.Query(name, dns.TypeA), Client: netip.MustParseAddr("127.0.0.1")}
	if _, err := e.Resolve(context.Background(), q); err != nil { // warm the cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Resolve(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolvePrivate: an A record answered from a linked zone.
func BenchmarkResolvePrivate(b *testing.B) { benchResolve(b, "contoso.privatelink.blob.example") }

// BenchmarkResolveCacheHit: a public name answered from the cache.
func BenchmarkResolveCacheHit(b *testing.B) { benchResolve(b, "www.example.com") }

// BenchmarkResolveCNAMEIntoPrivate: a cached public CNAME cut at a linked
// zone and answered privately (R5).
func BenchmarkResolveCNAMEIntoPrivate(b *testing.B) { benchResolve(b, "contoso.blob.example") }
