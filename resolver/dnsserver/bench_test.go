package dnsserver

import (
	"fmt"
	"net"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/resolver/upstream"
)

// packingWriter packs every reply, as a listener does, and drops it.
type packingWriter struct{ recorder }

func (w *packingWriter) WriteMsg(m *dns.Msg) error {
	_, err := m.Pack()
	return err
}

// BenchmarkServeCacheHit: the whole query path of a listener for a cache
// hit — handler, resolver, response shaping and packing.
func BenchmarkServeCacheHit(b *testing.B) {
	h := New(Options{Engine: enginetest.Bench(b)})
	w := &packingWriter{recorder{remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5300}}}
	req := resolvertest.Query("www.example.com", dns.TypeA)
	h.ServeDNS(w, req)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeDNS(w, req)
	}
}

// BenchmarkServeColdMiss: the whole query path for a name asked once —
// handler, resolver, a cache miss, a real UDP exchange with a loopback
// upstream (its own goroutine answers), the cache insert, shaping and
// packing. The upstream's cost is in the figure too.
func BenchmarkServeColdMiss(b *testing.B) {
	up := resolvertest.StartRawUDP(b, func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.IPv4(192, 0, 2, 99)}}
		out, _ := r.Pack()
		pc.WriteTo(out, from)
	})
	g, err := upstream.NewGroup(upstream.GroupOptions{Targets: []string{up.Addr}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close() })
	c, err := cache.New(cache.Options{MaxEntries: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	view, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(b, "127.0.0.0/8")}},
		Default:  c.Wrap("upstreams", g),
	})
	if err != nil {
		b.Fatal(err)
	}
	h := New(Options{Engine: resolver.NewEngine(resolver.EngineOptions{View: view})})
	w := &packingWriter{recorder{remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5300}}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		h.ServeDNS(w, resolvertest.Query(fmt.Sprintf("n%d.cold.example", i), dns.TypeA))
	}
}
