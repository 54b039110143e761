package upstream

import (
	"context"
	"testing"
)

// BenchmarkExchangeUDP measures one Exchange against a loopback fake: socket
// setup, packing, the round trip and unpacking.
func BenchmarkExchangeUDP(b *testing.B) {
	f := newFake(b, answer("192.0.2.1"))
	g, err := NewGroup(GroupOptions{Targets: []string{f.addr}})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	req := newReq("www.example.com")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Exchange(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExchangeDoT measures one Exchange on a pooled TLS connection.
func BenchmarkExchangeDoT(b *testing.B) {
	addr, _, roots := newDoT(b, "dns.test", answer("192.0.2.1"))
	g, err := NewGroup(GroupOptions{Targets: []string{"tls://" + addr + "#dns.test"}, TLSConfig: tlsRoots(roots)})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	req := newReq("www.example.com")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Exchange(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
