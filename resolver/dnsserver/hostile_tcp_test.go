package dnsserver

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/resolver/upstream"
)

// bigRecords is how many TXT records the big answer holds: 5,000 records
// of one empty string, 13 bytes each once compressed, make a message just
// under TCP's 64 KiB.
const bigRecords = 5000

// bigAnswer is the reply of 5,000 records to q.
func bigAnswer(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg).SetReply(q)
	m.RecursionAvailable = true
	m.Compress = true
	for range bigRecords {
		m.Answer = append(m.Answer, &dns.TXT{
			Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
			Txt: []string{""},
		})
	}
	return m
}

// truncated answers over UDP with TC set and no records, so the query
// goes again over TCP.
func truncated(pc net.PacketConn, from net.Addr, q *dns.Msg) {
	m := new(dns.Msg).SetReply(q)
	m.Truncated = true
	sendTo(pc, from, m)
}

// An upstream that truncates over UDP and then sends 5,000 records in
// one 64 KiB TCP message: a client asking over TCP gets all of them, a
// client asking over UDP a truncated reply to retry over TCP, and
// nothing stays behind.
func TestA64KiBAnswerOverTCPAfterTruncationReachesTheClient(t *testing.T) {
	for _, proto := range []string{"tcp", "udp"} {
		t.Run("client over "+proto, func(t *testing.T) {
			resolvertest.Settle(t, hostileHeapSlack, 5*time.Second)
			var size atomic.Int64
			_, up := resolvertest.StartRawPair(t, truncated, func(c net.Conn, q *dns.Msg) bool {
				n, err := resolvertest.WriteFrame(c, bigAnswer(q))
				if err == nil {
					size.Store(int64(n))
				}
				return true
			})
			// Unpacking and packing 5,000 records takes a few ms, and
			// tens under -race on two loaded cores: a timeout for size,
			// not for speed.
			const timeout, clients = time.Second, 5
			addr := hostileServer(t, upstream.GroupOptions{Timeout: timeout}, up.Addr)
			got := make(chan *dns.Msg, clients)
			begin := time.Now()
			for i := range clients {
				go func() {
					m, err := resolvertest.TryExchangeFrom(proto, "127.0.0.5", addr, resolvertest.Query(string(rune('a'+i))+".big.example.org", dns.TypeTXT))
					if err != nil {
						t.Errorf("no reply: %v", err)
					}
					got <- m
				}()
			}
			for range clients {
				m := <-got
				if m == nil {
					continue
				}
				switch {
				case m.Rcode != dns.RcodeSuccess:
					t.Errorf("rcode %s, want NOERROR", dns.RcodeToString[m.Rcode])
				case proto == "tcp" && (m.Truncated || len(m.Answer) != bigRecords):
					t.Errorf("over TCP: TC=%v with %d records, want all %d", m.Truncated, len(m.Answer), bigRecords)
				case proto == "udp" && !m.Truncated:
					t.Errorf("over UDP: %d records without TC, want a truncated reply", len(m.Answer))
				}
			}
			took := time.Since(begin)
			t.Logf("%d clients over %s: upstream's TCP answer %d bytes, all answered in %v", clients, proto, size.Load(), took.Round(time.Millisecond))
			if n := size.Load(); n < 64_000 || n > dns.MaxMsgSize {
				t.Errorf("the upstream's answer was %d bytes, want about 64 KiB", n)
			}
			if bound := timeout + hostileSlack; took > bound {
				t.Errorf("answers took %v, want within %v", took, bound)
			}
		})
	}
}

// After a truncated UDP reply, a TCP side that misbehaves ends in
// SERVFAIL within the one timeout the UDP attempt and its TCP retry
// share.
func TestAHostileTCPRetryIsAServfailInTime(t *testing.T) {
	shapes := []struct {
		name    string
		respond func(c net.Conn, q *dns.Msg) bool
	}{
		{"a length of 65535 then 100 bytes and silence", func(c net.Conn, q *dns.Msg) bool {
			p := make([]byte, 102)
			binary.BigEndian.PutUint16(p, 0xFFFF)
			_, _ = c.Write(p)
			return true
		}},
		{"64 KiB of garbage in a frame", func(c net.Conn, q *dns.Msg) bool {
			p := make([]byte, 2+dns.MaxMsgSize)
			_, _ = rand.Read(p)
			binary.BigEndian.PutUint16(p, dns.MaxMsgSize)
			p[2], p[3] = byte(q.Id>>8), byte(q.Id)
			_, _ = c.Write(p)
			return true
		}},
		{"the answer to another question", func(c net.Conn, q *dns.Msg) bool {
			m := bigAnswer(q)
			m.Question[0].Name = "evil.example."
			_, _ = resolvertest.WriteFrame(c, m)
			return true
		}},
		{"closed at once", func(net.Conn, *dns.Msg) bool { return false }},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			resolvertest.Settle(t, hostileHeapSlack, 5*time.Second)
			_, up := resolvertest.StartRawPair(t, truncated, s.respond)
			addr := hostileServer(t, upstream.GroupOptions{}, up.Addr)
			for _, proto := range []string{"udp", "tcp"} {
				askAll(addr, proto, hostileClients, "big.example.org", dns.TypeTXT).check(t, 1, 0)
			}
		})
	}
}
