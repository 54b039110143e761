package resolvertest

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestAServerThatCannotStartSaysWhy(t *testing.T) {
	s := New(t, MustPublic("a.example. 60 IN A 192.0.2.1"))
	if _, err := StartOn(s.Addr, MustPublic()); err == nil {
		t.Fatal("a second server started on an address in use")
	}
	// The first still answers, counting UDP and TCP apart.
	for _, proto := range []string{"udp", "tcp"} {
		if m := ExchangeFrom(t, proto, "127.0.0.9", s.Addr, Query("a.example", dns.TypeA)); len(m.Answer) != 1 {
			t.Fatalf("%s: %v", proto, m)
		}
	}
	if s.Hits() != 2 || s.TCPHits() != 1 {
		t.Errorf("hits %d, TCP hits %d; want 2 and 1", s.Hits(), s.TCPHits())
	}
}

func TestClockMovesOnlyWhenTold(t *testing.T) {
	c := NewClock(testStart)
	if !c.Now().Equal(testStart) {
		t.Fatal("the clock does not start where asked")
	}
	c.Advance(90)
	if got := c.Now().Sub(testStart); got != 90 {
		t.Errorf("advanced by %v, want 90ns", got)
	}
}

var testStart = time.Unix(1_800_000_000, 0)
