package upstream

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// sameReply reports how quick differs from full, or "".
func sameReply(quick, full *dns.Msg) string {
	if full == nil {
		return "quickReply took a reply the full unpack rejects"
	}
	if quick.String() != full.String() {
		return "quick:\n" + quick.String() + "\nfull:\n" + full.String()
	}
	if len(quick.Answer) != len(full.Answer) || len(quick.Ns) != len(full.Ns) || len(quick.Extra) != len(full.Extra) {
		return "section lengths differ"
	}
	if quick.Question[0] != full.Question[0] {
		return "questions differ"
	}
	for i, rr := range append(append(append([]dns.RR(nil), quick.Answer...), quick.Ns...), quick.Extra...) {
		want := append(append(append([]dns.RR(nil), full.Answer...), full.Ns...), full.Extra...)[i]
		if *rr.Header() != *want.Header() {
			return "headers differ: " + rr.Header().String() + " / " + want.Header().String()
		}
	}
	return ""
}

func replyTo(t testing.TB, q dns.Question, compress bool, rcode int, opt bool, rrs ...string) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(q.Name, q.Qtype)
	m.Id = 0x1234
	m.Response, m.RecursionAvailable, m.Compress = true, true, compress
	m.Rcode = rcode
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		if rr.Header().Rrtype == dns.TypeSOA {
			m.Ns = append(m.Ns, rr)
		} else {
			m.Answer = append(m.Answer, rr)
		}
	}
	if opt {
		m.SetEdns0(1232, true)
	}
	p, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	qA     = dns.Question{Name: "contoso.blob.core.windows.net.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	qAAAA  = dns.Question{Name: "www.example.com.", Qtype: dns.TypeAAAA, Qclass: dns.ClassINET}
	chainA = []string{
		"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net.",
		"contoso.privatelink.blob.core.windows.net. 60 IN CNAME blob.ams07prdstr02a.store.core.windows.net.",
		"blob.ams07prdstr02a.store.core.windows.net. 60 IN A 20.60.222.1",
	}
)

// The common replies are read quickly, and read the same as miekg reads
// them, compressed or not, with EDNS (and an extended rcode) or without.
func TestQuickReplyReadsCommonRepliesAsMiekgDoes(t *testing.T) {
	cases := []struct {
		name  string
		q     dns.Question
		rcode int
		rrs   []string
	}{
		{"CNAME chain to an A", qA, dns.RcodeSuccess, chainA},
		{"two AAAA", qAAAA, dns.RcodeSuccess, []string{"www.example.com. 300 IN AAAA 2001:db8::1", "www.example.com. 300 IN AAAA 2001:db8::2"}},
		{"NXDOMAIN with SOA", qAAAA, dns.RcodeNameError, []string{"example.com. 300 IN SOA ns.example.com. host.example.com. 1 2 3 4 5"}},
		{"no records", qA, dns.RcodeServerFailure, nil},
		{"MX goes through miekg", dns.Question{Name: "example.com.", Qtype: dns.TypeMX, Qclass: dns.ClassINET}, dns.RcodeSuccess, []string{"example.com. 60 IN MX 10 mail.example.com."}},
		{"extended rcode", qA, dns.RcodeBadVers, nil},
	}
	for _, c := range cases {
		for _, compress := range []bool{true, false} {
			for _, opt := range []bool{true, false} {
				if c.rcode > 0xF && !opt {
					continue
				}
				p := replyTo(t, c.q, compress, c.rcode, opt, c.rrs...)
				m, ok := quickReply(p, c.q)
				if !ok {
					t.Errorf("%s (compress %v, opt %v): not read quickly", c.name, compress, opt)
					continue
				}
				if d := sameReply(m, fullReply(p, c.q)); d != "" {
					t.Errorf("%s (compress %v, opt %v): %s", c.name, compress, opt, d)
				}
			}
		}
	}
}

// What quickReply must not take: a question spelled otherwise (left to the
// full unpack, which compares without case), another question, not a
// response, cut bytes, counts that lie.
func TestQuickReplyLeavesTheRestToMiekg(t *testing.T) {
	p := replyTo(t, qA, true, dns.RcodeSuccess, true, chainA...)
	upper := dns.Question{Name: strings.ToUpper(qA.Name), Qtype: qA.Qtype, Qclass: qA.Qclass}
	if _, ok := quickReply(p, upper); ok {
		t.Error("took a question spelled in another case")
	}
	if fullReply(p, upper) == nil {
		t.Error("the full unpack rejects a question in another case")
	}
	if _, ok := quickReply(p, qAAAA); ok {
		t.Error("took the reply to another question")
	}
	other := dns.Question{Name: qA.Name, Qtype: dns.TypeAAAA, Qclass: qA.Qclass}
	if _, ok := quickReply(p, other); ok {
		t.Error("took the reply to another type")
	}
	query := append([]byte(nil), p...)
	query[2] &^= 0x80
	if _, ok := quickReply(query, qA); ok {
		t.Error("took a query")
	}
	for n := 0; n < len(p); n++ {
		if m, ok := quickReply(p[:n], qA); ok {
			if d := sameReply(m, fullReply(p[:n], qA)); d != "" {
				t.Errorf("cut to %d bytes: %s", n, d)
			}
		}
	}
	lie := append([]byte(nil), p...)
	lie[7]++ // one answer more than there is
	if m, ok := quickReply(lie, qA); ok {
		if d := sameReply(m, fullReply(lie, qA)); d != "" {
			t.Errorf("counts that lie: %s", d)
		}
	}
}

// A cold miss's reply costs three objects besides its records' data: the
// message with its question, the record slice, and each record.
func TestQuickReplyAllocations(t *testing.T) {
	p := replyTo(t, qA, true, dns.RcodeSuccess, false, chainA...)
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := quickReply(p, qA); !ok {
			t.Fatal("not read quickly")
		}
	})
	// message, slice, 3 records, and the two CNAME targets not in the question
	if allocs > 7 {
		t.Errorf("%v allocations for a 3-record chain, want at most 7", allocs)
	}
	full := testing.AllocsPerRun(100, func() { fullReply(p, qA) })
	t.Logf("quickReply %v allocations, miekg %v", allocs, full)
}

func FuzzQuickReply(f *testing.F) {
	f.Add(replyTo(f, qA, true, dns.RcodeSuccess, true, chainA...), qA.Name, qA.Qtype)
	f.Add(replyTo(f, qA, false, dns.RcodeSuccess, false, chainA...), qA.Name, qA.Qtype)
	f.Add(replyTo(f, qAAAA, true, dns.RcodeNameError, true, "example.com. 300 IN SOA ns.example.com. host.example.com. 1 2 3 4 5"), qAAAA.Name, qAAAA.Qtype)
	f.Add(replyTo(f, qAAAA, true, dns.RcodeSuccess, false, `www.example.com. 300 IN CNAME w\.x.example.com.`), qAAAA.Name, qAAAA.Qtype)
	f.Fuzz(func(t *testing.T, p []byte, name string, qtype uint16) {
		q := dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}
		if _, ok := dns.IsDomainName(name); !ok || !dns.IsFqdn(name) {
			return
		}
		m, ok := quickReply(p, q)
		if !ok {
			return
		}
		if d := sameReply(m, fullReply(p, q)); d != "" {
			t.Error(d)
		}
	})
}

// Every header flag and opcode is read as miekg reads it.
func TestQuickReplyHeaderBits(t *testing.T) {
	p := replyTo(t, qA, true, dns.RcodeSuccess, false, chainA...)
	for bit := 0; bit < 15; bit++ { // QR (bit 15) must stay set
		flipped := append([]byte(nil), p...)
		flipped[2+(1-bit/8)] ^= 1 << (bit % 8)
		m, ok := quickReply(flipped, qA)
		if !ok {
			t.Errorf("bit %d: not read quickly", bit)
			continue
		}
		if d := sameReply(m, fullReply(flipped, qA)); d != "" {
			t.Errorf("bit %d: %s", bit, d)
		}
	}
}
