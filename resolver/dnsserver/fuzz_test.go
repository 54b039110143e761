package dnsserver

import (
	"context"
	"net"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/resolver/wire"
	"github.com/privdns/privdns/zones/registration"
	"github.com/privdns/privdns/zones/xfr"
)

// publicExchanger answers from a Public in process: no sockets, so the
// fuzzer runs fast and never waits.
type publicExchanger struct{ p *resolvertest.Public }

func (e publicExchanger) Exchange(_ context.Context, req *dns.Msg) (*dns.Msg, error) {
	return e.p.Answer(req), nil
}

// recorder is a dns.ResponseWriter that keeps what is written.
type recorder struct {
	remote net.Addr
	msgs   []*dns.Msg
}

func (r *recorder) LocalAddr() net.Addr         { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (r *recorder) RemoteAddr() net.Addr        { return r.remote }
func (r *recorder) WriteMsg(m *dns.Msg) error   { r.msgs = append(r.msgs, m); return nil }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) Close() error                { return nil }
func (r *recorder) TsigStatus() error           { return nil }
func (r *recorder) TsigTimersOnly(bool)         {}
func (r *recorder) Hijack()                     {}
func (r *recorder) Network() string             { return "udp" }

// serveBytes does what a listener does with a packet: the accept check,
// parsing, then the handler. It returns the packed replies.
func serveBytes(h *Handler, pkt []byte) [][]byte {
	if len(pkt) < 12 {
		return nil
	}
	var dh dns.Header
	dh.Id = uint16(pkt[0])<<8 | uint16(pkt[1])
	dh.Bits = uint16(pkt[2])<<8 | uint16(pkt[3])
	dh.Qdcount = uint16(pkt[4])<<8 | uint16(pkt[5])
	if wire.Accept(dh) != dns.MsgAccept {
		return nil
	}
	m := new(dns.Msg)
	if err := m.Unpack(pkt); err != nil {
		return nil // the listener answers FORMERR itself
	}
	var out [][]byte
	remote := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 5300}
	send := func(b []byte) error { out = append(out, append([]byte(nil), b...)); return nil }
	if h.Direct(m, pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}, remote, send) {
		return out
	}
	w := &recorder{remote: remote}
	h.ServeDNS(w, m)
	for _, resp := range w.msgs {
		b, err := resp.Pack()
		if err != nil {
			panic("handler wrote a message that does not pack: " + err.Error())
		}
		out = append(out, b)
	}
	return out
}

func FuzzServe(f *testing.F) {
	pub := resolvertest.MustPublic(
		"a.blob.example. 60 IN CNAME a.privatelink.blob.example.",
		"b.blob.example. 60 IN CNAME b.privatelink.blob.example.",
		"b.privatelink.blob.example. 60 IN A 192.0.2.2",
	)
	z := resolvertest.Zone(f, "privatelink.blob.example", "a 10 IN A 10.0.0.1", "*.w 10 IN TXT \"wild\"", "c 10 IN CNAME a")
	view, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(f, "127.0.0.0/8")}},
		Links:    []resolver.Link{{Name: "l", Network: "n", Zone: z, Policy: resolver.PolicyNxDomainRedirect}},
		Default:  pub, Explain: true,
	})
	if err != nil {
		f.Fatal(err)
	}
	h := New(Options{Engine: resolver.NewEngine(resolver.EngineOptions{View: view}), Settings: Settings{Identity: "fuzz"}})
	// Transfers, NOTIFY and UPDATE go through Direct: a zone with a
	// transfer block and registrations (memory only) for them to reach.
	corp := resolvertest.Zone(f, "corp.example", "@ 60 IN SOA ns h 1 60 60 600 60", "@ 60 IN NS ns", "ns 60 IN A 10.0.0.53", "m 60 IN A 10.0.0.9")
	reg, err := registration.New(registration.Options{Manual: corp})
	if err != nil {
		f.Fatal(err)
	}
	key, err := xfr.NewKey("k.", "hmac-sha256", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=")
	if err != nil {
		f.Fatal(err)
	}
	n := map[string]bool{"n": true}
	h.SetAuthority(&Authority{Keys: xfr.NewKeyring(key), Zones: map[string]*AuthZone{"corp.example.": {
		Source: reg, Registry: reg, Linked: n, Registering: n, Keys: map[string]bool{"k.": true},
		Transfer: &xfr.Outbound{Allow: resolvertest.Prefixes(f, "127.0.0.0/8")},
	}}})
	upd := new(dns.Msg)
	upd.SetUpdate("corp.example.")
	a, _ := dns.NewRR("vm.corp.example. 60 IN A 127.0.0.9")
	upd.Insert([]dns.RR{a})
	axfr := new(dns.Msg)
	axfr.SetAxfr("corp.example.")
	notify := new(dns.Msg)
	notify.SetNotify("corp.example.")
	for _, m := range []*dns.Msg{upd, axfr, notify, resolvertest.Query("corp.example", dns.TypeSOA)} {
		b, _ := m.Pack()
		f.Add(b)
	}
	for _, m := range []*dns.Msg{
		resolvertest.Query("a.blob.example", dns.TypeA), resolvertest.Query("b.blob.example", dns.TypeA),
		resolvertest.Query("x.w.privatelink.blob.example", dns.TypeTXT), resolvertest.Query("c.privatelink.blob.example", dns.TypeANY),
		resolvertest.Query("id.server", dns.TypeTXT),
	} {
		b, _ := m.Pack()
		f.Add(b)
	}
	f.Add([]byte{0, 1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, out := range serveBytes(h, pkt) {
			resp := new(dns.Msg)
			if err := resp.Unpack(out); err != nil {
				t.Fatalf("reply does not parse: %v", err)
			}
			if !resp.Response || resp.Id != uint16(pkt[0])<<8|uint16(pkt[1]) {
				t.Fatalf("reply is not a response to the query: %v", resp)
			}
			if len(out) > 512 && !hasOPT(pkt) {
				t.Fatalf("a %d-byte UDP reply to a client without EDNS", len(out))
			}
		}
	})
}

func hasOPT(pkt []byte) bool {
	m := new(dns.Msg)
	return m.Unpack(pkt) == nil && m.IsEdns0() != nil
}
