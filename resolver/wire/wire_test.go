package wire

import (
	"bytes"
	"testing"
	"testing/quick"

	"github.com/miekg/dns"
)

func query(name string, qtype uint16, edns bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	return m
}

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseQuestionReadsPlainQueries(t *testing.T) {
	withDO := query("a.Example.", dns.TypeAAAA, true)
	withDO.IsEdns0().SetDo()
	withDO.IsEdns0().SetUDPSize(4096)
	withDO.CheckingDisabled = true
	nsid := query("x.", dns.TypeTXT, true)
	nsid.IsEdns0().Option = append(nsid.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	tiny := query("x.", dns.TypeA, true)
	tiny.IsEdns0().SetUDPSize(100)
	for _, c := range []struct {
		name     string
		m        *dns.Msg
		wantBits uint8
		wantMax  int
	}{
		{"no EDNS", query("www.example.com", dns.TypeA, false), 0, 512},
		{"EDNS, DO and CD", withDO, BitEDNS | BitDO | BitCD, 4096},
		{"NSID", nsid, BitEDNS | BitNSID, 1232},
		{"a UDP size under 512 counts as 512", tiny, BitEDNS, 512},
	} {
		t.Run(c.name, func(t *testing.T) {
			pkt := pack(t, c.m)
			q, ok := ParseQuestion(pkt, make([]byte, 0, 255))
			if !ok {
				t.Fatal("refused")
			}
			if name, _, err := dns.UnpackDomainName(append(q.Name, 0, 0), 0); err != nil || name != c.m.Question[0].Name {
				t.Errorf("name %q (%v), want %q", name, err, c.m.Question[0].Name)
			}
			if q.Type != c.m.Question[0].Qtype || q.Class != dns.ClassINET || q.Bits != c.wantBits || q.MaxSize != c.wantMax {
				t.Errorf("parsed %+v, want bits %b max %d", q, c.wantBits, c.wantMax)
			}
			if !bytes.Equal(pkt[12:q.NameEnd], q.Name) {
				t.Errorf("NameEnd %d does not end the name", q.NameEnd)
			}
		})
	}
}

func TestParseQuestionLeavesTheUnusualToTheFullPath(t *testing.T) {
	notify := query("x.", dns.TypeSOA, false)
	notify.Opcode = dns.OpcodeNotify
	two := query("x.", dns.TypeA, false)
	two.Question = append(two.Question, two.Question[0])
	badvers := query("x.", dns.TypeA, true)
	badvers.IsEdns0().SetVersion(1)
	subnet := query("x.", dns.TypeA, true)
	subnet.IsEdns0().Option = append(subnet.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{10, 0, 0, 0}})
	resp := query("x.", dns.TypeA, false)
	resp.Response = true
	answer := query("x.", dns.TypeA, false)
	answer.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "x.", Rrtype: dns.TypeA, Class: dns.ClassINET}}}
	for name, m := range map[string]*dns.Msg{
		"NOTIFY": notify, "two questions": two, "EDNS version 1": badvers, "client subnet": subnet,
		"a response": resp, "an answer section": answer,
	} {
		if _, ok := ParseQuestion(pack(t, m), nil); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	trailing := append(pack(t, query("x.", dns.TypeA, false)), 0)
	if _, ok := ParseQuestion(trailing, nil); ok {
		t.Error("a trailing byte: accepted")
	}
	if _, ok := ParseQuestion([]byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1}, nil); ok {
		t.Error("a compressed question name: accepted")
	}
}

func TestParseQuestionDoesNotAllocate(t *testing.T) {
	pkt := pack(t, query("contoso.privatelink.blob.core.windows.net", dns.TypeA, true))
	name := make([]byte, 0, 255)
	if n := testing.AllocsPerRun(100, func() { ParseQuestion(pkt, name) }); n != 0 {
		t.Errorf("%v allocations per parse, want 0", n)
	}
}

func TestTTLOffsetsFindEveryRecordsTTL(t *testing.T) {
	f := func(ttls []uint32, compress bool) bool {
		if len(ttls) > 40 {
			ttls = ttls[:40]
		}
		m := query("a.example.", dns.TypeA, false)
		m.Response, m.Compress = true, compress
		for i, ttl := range ttls {
			rr := &dns.A{Hdr: dns.RR_Header{Name: "a.example.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: []byte{10, 0, 0, byte(i)}}
			if i%3 == 2 {
				m.Ns = append(m.Ns, rr)
			} else {
				m.Answer = append(m.Answer, rr)
			}
		}
		b, err := m.Pack()
		if err != nil {
			return false
		}
		offs, ok := TTLOffsets(b, len(m.Answer)+len(m.Ns))
		if !ok {
			return false
		}
		got := new(dns.Msg)
		for i, off := range offs {
			b[off], b[off+1], b[off+2], b[off+3] = 0, 0, 0, byte(i+1)
		}
		if got.Unpack(b) != nil {
			return false
		}
		for i, rr := range append(got.Answer, got.Ns...) {
			if rr.Header().Ttl != uint32(i+1) {
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
	b := pack(t, query("a.example.", dns.TypeA, false))
	if _, ok := TTLOffsets(b, 1); ok {
		t.Error("a record found in a message without one")
	}
}

func TestHeaderReplyKeepsIDOpcodeAndRD(t *testing.T) {
	m := query("x.", dns.TypeA, false)
	m.Id, m.Opcode, m.RecursionDesired = 0xBEEF, dns.OpcodeStatus, true
	dh, ok := Header(pack(t, m))
	if !ok {
		t.Fatal("a request was not accepted")
	}
	r := HeaderReply(dh, dns.RcodeFormatError)
	if r.Id != 0xBEEF || r.Opcode != dns.OpcodeStatus || !r.RecursionDesired || !r.Response || r.RecursionAvailable || r.Rcode != dns.RcodeFormatError {
		t.Errorf("reply %+v", r.MsgHdr)
	}
	m.Response = true
	if _, ok := Header(pack(t, m)); ok {
		t.Error("a response was accepted")
	}
	if _, ok := Header(make([]byte, 11)); ok {
		t.Error("a runt was accepted")
	}
}

// FuzzParseQuestion checks that what the fast path accepts, the full
// parser accepts the same way.
func FuzzParseQuestion(f *testing.F) {
	for _, m := range []*dns.Msg{
		query("www.example.com", dns.TypeA, true),
		query("a.b", dns.TypeTXT, false),
		query("x.", dns.TypeAAAA, true),
	} {
		f.Add(pack(f, m))
	}
	f.Add([]byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0xC0, 12})
	// A malformed client-subnet option (family 99): Unpack rejects it, so
	// the fast parser must leave it to the full path (FORMERR).
	bad := query("www.example.com", dns.TypeA, true)
	bad.IsEdns0().Option = append(bad.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: dns.EDNS0SUBNET, Data: []byte{0, 99, 24, 0, 1, 2, 3}})
	f.Add(pack(f, bad))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		TTLOffsets(pkt, 3) // must not panic on anything
		q, ok := ParseQuestion(pkt, make([]byte, 0, 255))
		if !ok {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(pkt); err != nil {
			t.Fatalf("ParseQuestion accepted what Unpack rejects: %v", err)
		}
		mq := m.Question[0]
		if name, _, err := dns.UnpackDomainName(pkt, 12); err != nil || name != mq.Name || mq.Qtype != q.Type || mq.Qclass != q.Class {
			t.Fatalf("question %v, parsed %q %d %d", mq, name, q.Type, q.Class)
		}
		opt := m.IsEdns0()
		if (opt != nil) != (q.Bits&BitEDNS != 0) || (opt != nil && opt.Do() != (q.Bits&BitDO != 0)) {
			t.Fatalf("EDNS %v, parsed bits %b", opt, q.Bits)
		}
		if m.CheckingDisabled != (q.Bits&BitCD != 0) {
			t.Fatalf("CD %v, parsed bits %b", m.CheckingDisabled, q.Bits)
		}
	})
}

func TestTruncatedReplySendsTheClientToTCP(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("www.Example.com.", dns.TypeAAAA)
	q.Id = 4242
	q.SetEdns0(1232, true)
	pkt, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 512)
	n := TruncatedReply(pkt, out)
	m := new(dns.Msg)
	if err := m.Unpack(out[:n]); err != nil {
		t.Fatal(err)
	}
	if m.Id != 4242 || !m.Response || !m.Truncated || !m.RecursionDesired || !m.RecursionAvailable || m.Rcode != dns.RcodeSuccess ||
		len(m.Question) != 1 || m.Question[0] != q.Question[0] || len(m.Answer)+len(m.Ns)+len(m.Extra) != 0 {
		t.Errorf("got %v; want NOERROR, TC, the question as asked and no records", m)
	}
	notify := new(dns.Msg)
	notify.SetNotify("example.com.")
	pkt, _ = notify.Pack()
	if n := TruncatedReply(pkt, out); n == 0 || out[3]&0x80 != 0 || out[2]>>3&0xF != dns.OpcodeNotify {
		t.Errorf("a NOTIFY's truncated reply: % x; want its opcode and no RA", out[:n])
	}
	if n := TruncatedReply(out[:n], make([]byte, 512)); n != 0 {
		t.Error("a response was answered")
	}
	if n := TruncatedReply(pkt, make([]byte, 11)); n != 0 {
		t.Error("a reply was written past a short buffer")
	}
}
