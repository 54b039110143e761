package upstream

import (
	"context"
	"encoding/binary"
	"net"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
)

// many is a reply to r with n A records, 10.0.x.y, packed with compression.
func many(t *testing.T, r *dns.Msg, n int) []byte {
	t.Helper()
	m := new(dns.Msg).SetReply(r)
	m.Compress = true
	for i := range n {
		m.Answer = append(m.Answer, reply(r, net.IPv4(10, 0, byte(i/256), byte(i)).String()).Answer[0])
	}
	p, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sizedPair is an upstream whose UDP side sends a reply of udpRecords
// records whatever the query allows, and whose TCP side sends one record,
// 192.0.2.1; it counts the queries each side saw.
func sizedPair(t *testing.T, udpRecords int) (addr string, udpHits, tcpHits *atomic.Int32) {
	udpHits, tcpHits = new(atomic.Int32), new(atomic.Int32)
	u, _ := resolvertest.StartRawPair(t,
		func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
			udpHits.Add(1)
			_, _ = pc.WriteTo(many(t, q, udpRecords), from)
		},
		func(c net.Conn, q *dns.Msg) bool {
			tcpHits.Add(1)
			p, _ := reply(q, "192.0.2.1").Pack()
			frame := binary.BigEndian.AppendUint16(nil, uint16(len(p)))
			_, _ = c.Write(append(frame, p...))
			return false
		})
	return u.Addr, udpHits, tcpHits
}

// A UDP reply larger than the query allowed arrives cut short by the kernel
// when it does not fit the small buffer: it is no answer, and the query goes
// again over TCP.
func TestUDPReplyLargerThanAllowedIsAskedAgainOverTCP(t *testing.T) {
	addr, udpHits, tcpHits := sizedPair(t, 400) // about 6,400 bytes
	g := newTestGroup(t, GroupOptions{Targets: []string{addr}})

	m, err := g.Exchange(context.Background(), newReq("big.example.")) // upstream advertises 1232
	if err != nil {
		t.Fatal(err)
	}
	wantA(t, m, "192.0.2.1")
	if udpHits.Load() != 1 || tcpHits.Load() != 1 {
		t.Errorf("udp hits %d, tcp hits %d; want one of each", udpHits.Load(), tcpHits.Load())
	}
}

// A reply within what the client's OPT allows is read whole over UDP, even
// when it is larger than the small buffers.
func TestUDPReplyWithinAdvertisedSizeIsReadWhole(t *testing.T) {
	for _, tt := range []struct {
		name    string
		size    uint16
		records int
	}{
		{"just under the small buffer", 4096, 250}, // about 4,000 bytes
		{"large buffer", 16384, 900},               // about 14,400 bytes
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, udpHits, tcpHits := sizedPair(t, tt.records)
			g := newTestGroup(t, GroupOptions{Targets: []string{addr}})
			req := newReq("big.example.")
			req.SetEdns0(tt.size, false)

			m, err := g.Exchange(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Answer) != tt.records || m.Truncated {
				t.Errorf("%d records (TC=%v), want the %d sent over UDP", len(m.Answer), m.Truncated, tt.records)
			}
			if udpHits.Load() != 1 || tcpHits.Load() != 0 {
				t.Errorf("udp hits %d, tcp hits %d; want UDP only", udpHits.Load(), tcpHits.Load())
			}
		})
	}
}

// A query too large for a small buffer (a client's OPT with a long option)
// is sent whole.
func TestLargeQueryIsSentWhole(t *testing.T) {
	var got atomic.Int32
	u := resolvertest.StartRawUDP(t, func(pc net.PacketConn, from net.Addr, r *dns.Msg) {
		if opt := r.IsEdns0(); opt != nil && len(opt.Option) == 1 {
			if l, ok := opt.Option[0].(*dns.EDNS0_LOCAL); ok {
				got.Store(int32(len(l.Data)))
			}
		}
		p, _ := reply(r, "192.0.2.7").Pack()
		_, _ = pc.WriteTo(p, from)
	})
	g := newTestGroup(t, GroupOptions{Targets: []string{u.Addr}})
	req := newReq("long.example.")
	req.SetEdns0(1232, false)
	opt := req.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: 65001, Data: make([]byte, 6000)})

	m, err := g.Exchange(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantA(t, m, "192.0.2.7")
	if got.Load() != 6000 {
		t.Errorf("upstream saw an option of %d bytes, want 6000", got.Load())
	}
}
