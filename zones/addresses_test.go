package zones

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// A and AAAA RRsets of class IN are held as addresses and made into
// records when asked: every lookup, ANY and the transfer's list give the
// records as configured (order, TTLs, owner), other types and classes
// beside them.
func TestAddressRecordsAnswerAsConfigured(t *testing.T) {
	z := mustLoad(t, "corp.example", "", []string{
		"www 300 IN A 10.0.0.1", "www 300 IN A 10.0.0.3", "www 300 IN A 10.0.0.2",
		"www 60 IN AAAA 2001:db8::1", "www 60 IN AAAA ::ffff:10.0.0.9",
		`www 120 IN TXT "hello"`,
		"*.wild 90 IN A 10.9.9.9",
	})
	got := func(name string, qtype uint16) []string {
		r := z.Lookup(name, qtype)
		if r.Kind != Answer {
			t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], r.Kind)
		}
		return rrStrings(r.Records)
	}
	want := []string{"www.corp.example.\t300\tIN\tA\t10.0.0.1", "www.corp.example.\t300\tIN\tA\t10.0.0.3", "www.corp.example.\t300\tIN\tA\t10.0.0.2"}
	if a := got("WWW.corp.example", dns.TypeA); !equalStrings(a, want) {
		t.Errorf("A: %q, want %q", a, want)
	}
	wantAAAA := []string{"www.corp.example.\t60\tIN\tAAAA\t2001:db8::1", "www.corp.example.\t60\tIN\tAAAA\t::ffff:10.0.0.9"}
	if a := got("www.corp.example.", dns.TypeAAAA); !equalStrings(a, wantAAAA) {
		t.Errorf("AAAA: %q, want %q", a, wantAAAA)
	}
	if a := got("x.wild.corp.example.", dns.TypeA); len(a) != 1 || a[0] != "x.wild.corp.example.\t90\tIN\tA\t10.9.9.9" {
		t.Errorf("wildcard: %q", a)
	}
	any := got("www.corp.example.", dns.TypeANY)
	if len(any) != 6 || any[5] != "www.corp.example.\t120\tIN\tTXT\t\"hello\"" {
		t.Errorf("ANY: %q", any)
	}
	inAXFR := 0
	for _, rr := range z.Records() {
		if rr.Header().Name == "www.corp.example." {
			inAXFR++
		}
	}
	if inAXFR != 6 {
		t.Errorf("the transfer lists %d records of www, want 6", inAXFR)
	}
	// Every packed answer reads back the same.
	for _, rr := range z.Lookup("www.corp.example.", dns.TypeANY).Records {
		buf := make([]byte, 512)
		n, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := dns.UnpackRR(buf[:n], 0)
		if err != nil || back.String() != rr.String() {
			t.Errorf("%s packed and read back as %v (%v)", rr, back, err)
		}
	}
}

// A caller that changes the records it was given changes nothing of the
// zone's: the next lookup answers as configured.
func TestAddressRecordsAreTheCallersToChange(t *testing.T) {
	z := mustLoad(t, "corp.example", "", []string{"www 300 IN A 10.0.0.1", "www 300 IN A 10.0.0.2"})
	r := z.Lookup("www.corp.example.", dns.TypeA)
	a := r.Records[0].(*dns.A)
	a.Hdr.Name, a.Hdr.Ttl = "other.example.", 1
	_ = append(a.A, 9) // capped: a copy, not the next address's bytes
	r.Records[1] = &dns.A{Hdr: dns.RR_Header{Name: "x.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(1, 2, 3, 4)}
	want := []string{"www.corp.example.\t300\tIN\tA\t10.0.0.1", "www.corp.example.\t300\tIN\tA\t10.0.0.2"}
	if got := rrStrings(z.Lookup("www.corp.example.", dns.TypeA).Records); !equalStrings(got, want) {
		t.Errorf("after a caller changed its records: %q, want %q", got, want)
	}
}

// Zones with the same addresses are the same data; a TTL, an address, an
// order or a class apart, they are not.
func TestAddressRecordsDecideSameData(t *testing.T) {
	base := []string{"www 300 IN A 10.0.0.1", "www 300 IN A 10.0.0.2", "v6 60 IN AAAA 2001:db8::1"}
	old := mustLoad(t, "corp.example", "", base)
	for _, c := range []struct {
		name string
		recs []string
		same bool
	}{
		{"identical", base, true},
		{"a TTL", []string{"www 301 IN A 10.0.0.1", "www 301 IN A 10.0.0.2", "v6 60 IN AAAA 2001:db8::1"}, false},
		{"an address", []string{"www 300 IN A 10.0.0.1", "www 300 IN A 10.0.0.3", "v6 60 IN AAAA 2001:db8::1"}, false},
		{"the order", []string{"www 300 IN A 10.0.0.2", "www 300 IN A 10.0.0.1", "v6 60 IN AAAA 2001:db8::1"}, false},
		{"an AAAA", []string{"www 300 IN A 10.0.0.1", "www 300 IN A 10.0.0.2", "v6 60 IN AAAA 2001:db8::2"}, false},
	} {
		z := mustLoad(t, "corp.example", "", c.recs)
		if got := z.sameData(old); got != c.same {
			t.Errorf("%s: sameData %v, want %v", c.name, got, c.same)
		}
	}
}
