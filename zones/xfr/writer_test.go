package xfr

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rawTCPServer is a transport of its own, as privdns's listeners are: it
// reads length-prefixed messages and answers each with Serve through a
// Writer.
func rawTCPServer(t *testing.T, o *Outbound, kr Keyring) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				for {
					var n [2]byte
					if _, err := io.ReadFull(conn, n[:]); err != nil {
						return
					}
					raw := make([]byte, binary.BigEndian.Uint16(n[:]))
					if _, err := io.ReadFull(conn, raw); err != nil {
						return
					}
					req := new(dns.Msg)
					if err := req.Unpack(raw); err != nil {
						return
					}
					send := func(b []byte) error {
						_, err := conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...))
						return err
					}
					Serve(NewWriter(req, raw, conn.LocalAddr(), conn.RemoteAddr(), kr, send), req, o)
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestWriterVerifiesAndSignsLikeMiekgsServer(t *testing.T) {
	recs := append([]string{}, zoneV1...)
	for i := range 2000 {
		recs = append(recs, fmt.Sprintf("host-%d 60 IN TXT \"padding padding padding\"", i))
	}
	z := mustZone(t, "corp.example", recs...)
	key := mustKey(t, "xfr", "hmac-sha256", secretA)
	addr := rawTCPServer(t, &Outbound{Zone: z, Allow: loopback(), Key: key}, NewKeyring(key))

	rrs, msgs, err := transferIn(t, addr, dns.TypeAXFR, 0, key) // verifies every message's MAC chain
	if err != nil || len(rrs) != len(z.Records())+1 || msgs < 2 {
		t.Fatalf("AXFR through a Writer: %d records in %d messages, %v", len(rrs), msgs, err)
	}
	q := new(dns.Msg)
	q.SetQuestion("corp.example.", dns.TypeAXFR)
	mustKey(t, "xfr", "hmac-sha256", secretB).Sign(q, time.Now())
	if r := exchange(t, "tcp", addr, q, NewKeyring(mustKey(t, "xfr", "hmac-sha256", secretB))); r.Rcode != dns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != dns.RcodeBadSig {
		t.Errorf("wrong secret through a Writer: %v, want NOTAUTH with BADSIG", r)
	}
}
