package resolver_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
)

func benchResolve(b *testing.B, name string) {
	e := enginetest.Bench(b)
	q := &resolver.Query{Msg: resolvertest.Query(name, dns.TypeA), Client: netip.MustParseAddr("127.0.0.1")}
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

// BenchmarkResolveFallback: a name missing from an NxDomainRedirect zone,
// answered on the public path from the cache (R4).
func BenchmarkResolveFallback(b *testing.B) { benchResolve(b, "fabrikam.privatelink.fb.example") }
