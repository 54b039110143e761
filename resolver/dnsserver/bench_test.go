package dnsserver

import (
	"net"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
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
