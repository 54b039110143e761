package upstream

import (
	"context"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func TestServerWithoutEDNSIsAskedAgainWithout(t *testing.T) {
	// An old server: FORMERR without OPT to any query that has one.
	old := newFake(t, func(w dns.ResponseWriter, r *dns.Msg) {
		if r.IsEdns0() != nil {
			m := new(dns.Msg)
			m.SetRcode(r, dns.RcodeFormatError)
			w.WriteMsg(m)
			return
		}
		answer("192.0.2.7")(w, r)
	})
	obs := &observer{}
	g := newTestGroup(t, GroupOptions{Targets: []string{old.addr}, Observer: obs})
	m, err := g.Exchange(context.Background(), newReq("www.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	wantA(t, m, "192.0.2.7")
	if got := old.s.Hits(); got != 2 {
		t.Errorf("hits %d, want 2 (with EDNS, then without)", got)
	}
	if requests, _ := obs.snapshot(); !slices.Equal(requests, []string{old.addr + " FORMERR", old.addr + " NOERROR"}) {
		t.Errorf("requests observed %v, want the FORMERR and the NOERROR", requests)
	}

	// A FORMERR that carries an OPT is the server's real answer: no retry.
	strict := newFake(t, func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		m.SetEdns0(1232, false)
		w.WriteMsg(m)
	})
	g = newTestGroup(t, GroupOptions{Targets: []string{strict.addr}})
	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err == nil {
		t.Error("a FORMERR with OPT became an answer")
	}
	if got := strict.s.Hits(); got != 1 {
		t.Errorf("hits %d, want 1", got)
	}
}
