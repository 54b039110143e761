package dnsserver

import (
	"net"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// packingWriter packs every reply, as a listener does, and drops it.
type packingWriter struct{ recorder }

func (w *packingWriter) WriteMsg(m *dns.Msg) error {
	_, err := m.Pack()
	return err
}

// benchEngine answers privatelink names privately and everything else
// from an in-process public resolver behind the cache.
func benchEngine(b *testing.B) *resolver.Engine {
	pub := resolvertest.MustPublic(
		"www.example.com. 300 IN A 93.184.215.14",
		"contoso.blob.example. 300 IN CNAME contoso.privatelink.blob.example.",
	)
	c, err := cache.New(cache.Options{MaxEntries: 1000})
	if err != nil {
		b.Fatal(err)
	}
	z := resolvertest.Zone(b, "privatelink.blob.example", "contoso 10 IN A 10.0.0.1")
	v, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(b, "127.0.0.0/8")}},
		Links:    []resolver.Link{{Name: "l", Network: "n", Zone: z}},
		Default:  c.Wrap("upstreams", pub),
		Explain:  true,
	})
	if err != nil {
		b.Fatal(err)
	}
	return resolver.NewEngine(resolver.EngineOptions{View: v})
}

// BenchmarkServeCacheHit: the whole query path of a listener for a cache
// hit — handler, resolver, response shaping and packing.
func BenchmarkServeCacheHit(b *testing.B) {
	h := New(Options{Engine: benchEngine(b)})
	w := &packingWriter{recorder{remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5300}}}
	req := resolvertest.Query("www.example.com", dns.TypeA)
	h.ServeDNS(w, req)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeDNS(w, req)
	}
}
