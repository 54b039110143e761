package cache

import (
	"reflect"
	"testing"

	"github.com/miekg/dns"
)

// TestUnpackMatchesMiekg checks the hit path's own unpack against dns.Msg.Unpack: the
// same header and records, whatever the types, owner names and their case.
func TestUnpackMatchesMiekg(t *testing.T) {
	tests := []struct {
		name   string
		qname  string
		rcode  int
		answer []string
		ns     []string
		extra  []string
		aa     bool
	}{
		{name: "one A, owner as asked", qname: "www.example.com.", answer: []string{"www.example.com. 300 IN A 192.0.2.1"}},
		{name: "owner in another case", qname: "www.example.com.", answer: []string{"WWW.Example.com. 300 IN A 192.0.2.1"}},
		{name: "owner longer than the question", qname: "example.com.", answer: []string{"www.example.com. 300 IN A 192.0.2.1"}},
		{name: "owner shorter than the question", qname: "www.example.com.", answer: []string{"example.com. 300 IN A 192.0.2.1"}},
		{name: "escaped owner", qname: `a\.b.example.`, answer: []string{`a\.b.example. 300 IN A 192.0.2.1`}},
		{name: "owner with special bytes", qname: `a\(b\032c\255.example.`, answer: []string{`a\(b\032c\255.example. 300 IN A 192.0.2.1`}},
		{name: "AAAA and a CNAME chain", qname: "a.example.", answer: []string{
			"a.example. 60 IN CNAME b.example.", "b.example. 60 IN AAAA 2001:db8::1", "b.example. 60 IN AAAA ::ffff:192.0.2.1",
		}},
		{name: "mixed types", qname: "example.", answer: []string{
			"example. 300 IN MX 10 mail.example.", `example. 300 IN TXT "v=spf1 -all" "second string"`,
			"example. 300 IN NS ns1.example.", "example. 300 CH A 192.0.2.9", "example. 300 IN TYPE65280 \\# 3 010203",
		}, extra: []string{"ns1.example. 300 IN A 192.0.2.53"}},
		{name: "negative with SOA and NSEC", qname: "nx.example.", rcode: dns.RcodeNameError, ns: []string{
			"example. 3600 IN SOA ns1.example. host.example. 1 7200 900 1209600 300",
			"example. 300 IN NSEC a.example. A NS SOA RRSIG NSEC",
		}},
		{name: "more names than are remembered", qname: "q.example.", answer: []string{
			"q.example. 60 IN CNAME a.example.", "a.example. 60 IN CNAME b.example.", "b.example. 60 IN CNAME c.example.",
			"c.example. 60 IN CNAME d.example.", "d.example. 60 IN CNAME e.example.", "e.example. 60 IN A 192.0.2.5",
			"a.example. 60 IN A 192.0.2.1", "q.example. 60 IN CNAME A.example.",
		}},
		{name: "CNAME with a target in another case than the next owner", qname: "x.example.", answer: []string{
			"x.example. 60 IN CNAME Y.example.", "y.example. 60 IN A 192.0.2.2",
		}},
		{name: "root owner", qname: ".", answer: []string{". 518400 IN NS a.root-servers.net."}},
		{name: "header only", qname: "example.", rcode: dns.RcodeSuccess, aa: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.Response, m.Rcode, m.Authoritative, m.RecursionAvailable = true, tt.rcode, tt.aa, true
			m.Id = 1234
			for _, section := range []struct {
				rrs   *[]dns.RR
				lines []string
			}{{&m.Answer, tt.answer}, {&m.Ns, tt.ns}, {&m.Extra, tt.extra}} {
				for _, line := range section.lines {
					*section.rrs = append(*section.rrs, mustRR(t, tt.qname, line))
				}
			}
			wire := packed(m)
			if wire == nil {
				t.Fatal("packed returned nil")
			}
			want := new(dns.Msg)
			if err := want.Unpack(wire); err != nil {
				t.Fatal(err)
			}
			got, err := unpack(wire, nil, tt.qname)
			if err != nil {
				t.Fatalf("unpack: %v", err)
			}
			if got.MsgHdr != want.MsgHdr {
				t.Errorf("header %+v, want %+v", got.MsgHdr, want.MsgHdr)
			}
			for _, s := range []struct {
				name      string
				got, want []dns.RR
			}{{"answer", got.Answer, want.Answer}, {"authority", got.Ns, want.Ns}, {"additional", got.Extra, want.Extra}} {
				if !reflect.DeepEqual(s.got, s.want) {
					t.Errorf("%s section\n got %v\nwant %v", s.name, s.got, s.want)
				}
			}
		})
	}
}

// TestUnpackRejectsDamagedBytes: bytes cut short or with trailing garbage are an error,
// never a panic or a partial message.
func TestUnpackRejectsDamagedBytes(t *testing.T) {
	m := new(dns.Msg)
	m.Answer = []dns.RR{mustRR(t, "a.example.", "a.example. 300 IN A 192.0.2.1"), mustRR(t, "a.example.", "a.example. 300 IN MX 10 mx.example.")}
	wire := packed(m)
	for n := range len(wire) {
		if _, err := unpack(wire[:n], nil, "a.example."); err == nil {
			t.Errorf("unpack of %d of %d bytes: no error", n, len(wire))
		}
	}
	if _, err := unpack(append(wire[:len(wire):len(wire)], 0), nil, "a.example."); err == nil {
		t.Error("unpack with a trailing byte: no error")
	}
}

// TestPlainAnswerReadsAsUnpackDoes: the read-back without records says yes only to bytes
// unpack reads (every cut of a plain answer, and a byte more, is refused), and to the
// A/AAAA/CNAME answers most caching is.
func TestPlainAnswerReadsAsUnpackDoes(t *testing.T) {
	for _, tt := range []struct {
		qname string
		rrs   []string
		plain bool
	}{
		{"a.example.", []string{"a.example. 300 IN A 192.0.2.1", "a.example. 300 IN A 192.0.2.2"}, true},
		{"a.example.", []string{"a.example. 60 IN CNAME b.example.", "b.example. 60 IN AAAA 2001:db8::1"}, true},
		{`a\(b\032.example.`, []string{`a\(b\032.example. 60 IN A 192.0.2.9`}, true},
		{"a.example.", []string{"a.example. 300 IN MX 10 mx.example."}, false},
		{"a.example.", []string{"a.example. 300 IN TXT \"x\""}, false},
	} {
		m := new(dns.Msg)
		for _, line := range tt.rrs {
			m.Answer = append(m.Answer, mustRR(t, tt.qname, line))
		}
		wire := packed(m)
		if wire == nil {
			t.Fatalf("%v: packed returned nil", tt.rrs)
		}
		if got := plainAnswer(wire); got != tt.plain {
			t.Errorf("plainAnswer(%v) = %v, want %v", tt.rrs, got, tt.plain)
		}
		for n := range len(wire) {
			if plainAnswer(wire[:n]) {
				if _, err := unpack(wire[:n], nil, tt.qname); err != nil {
					t.Errorf("%v cut to %d bytes: plain, but unpack fails: %v", tt.rrs, n, err)
				}
			}
		}
		if plainAnswer(append(wire[:len(wire):len(wire)], 0)) {
			t.Errorf("%v with a byte more: plain", tt.rrs)
		}
	}
}

// FuzzPlainAnswer: whatever the bytes, plainAnswer never says yes to what unpack refuses.
func FuzzPlainAnswer(f *testing.F) {
	m := new(dns.Msg)
	m.Answer = []dns.RR{mustRR(f, "a.example.", "a.example. 60 IN CNAME b.example."), mustRR(f, "b.example.", "b.example. 60 IN A 192.0.2.1")}
	f.Add(packed(m))
	f.Fuzz(func(t *testing.T, wire []byte) {
		if plainAnswer(wire) {
			if _, err := unpack(wire, nil, "a.example."); err != nil {
				t.Errorf("plain, but unpack fails: %v", err)
			}
		}
	})
}
