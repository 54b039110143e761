package cache

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestServeStaleWhenUpstreamFails(t *testing.T) {
	c, clock := newTestCache(t, Options{ServeStale: true, FailureTTL: 5 * time.Second})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 60 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	ask(t, ex, query("a.example.", dns.TypeA))

	clock.Advance(2 * time.Hour)
	up.set(failing)
	resp := ask(t, ex, query("a.example.", dns.TypeA))
	wantCalls(t, up, 2)
	wantTTLs(t, resp, 30)
	if got := edeCodes(resp); !slices.Equal(got, []uint16{dns.ExtendedErrorCodeStaleAnswer}) {
		t.Errorf("EDE codes %v, want [3] (Stale Answer)", got)
	}
	if resp.Answer[0].(*dns.A).A.String() != "192.0.2.1" {
		t.Errorf("stale answer %v, want the old record", resp.Answer)
	}

	clock.Advance(4 * time.Second) // within FailureTTL: stale again, upstream left alone
	wantTTLs(t, ask(t, ex, query("a.example.", dns.TypeA)), 30)
	wantCalls(t, up, 2)

	clock.Advance(time.Second) // upstream back: the entry is refreshed
	up.set(replyWith(t, dns.RcodeSuccess, []string{"@ 120 IN A 192.0.2.2"}))
	resp = ask(t, ex, query("a.example.", dns.TypeA))
	wantCalls(t, up, 3)
	wantTTLs(t, resp, 120)
	if len(edeCodes(resp)) != 0 || resp.Answer[0].(*dns.A).A.String() != "192.0.2.2" {
		t.Errorf("after recovery got %v, want the fresh record without EDE", resp)
	}
	if got := c.Stats().StaleServed; got != 2 {
		t.Errorf("StaleServed %d, want 2", got)
	}
}

func TestServeStaleWhenUpstreamIsSlow(t *testing.T) {
	slow := make(chan time.Time)
	var asked time.Duration
	after := func(d time.Duration) <-chan time.Time { asked = d; return slow }
	c, clock := newTestCache(t, Options{ServeStale: true, StaleAfter: 1800 * time.Millisecond, After: after})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 60 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	ask(t, ex, query("a.example.", dns.TypeA))

	clock.Advance(time.Hour)
	up.set(replyWith(t, dns.RcodeSuccess, []string{"@ 60 IN A 192.0.2.2"}))
	up.blocking(t)
	close(slow) // the client response timer has fired
	resp := ask(t, ex, query("a.example.", dns.TypeA))
	if asked != 1800*time.Millisecond {
		t.Errorf("timer set for %s, want StaleAfter 1.8s", asked)
	}
	wantTTLs(t, resp, 30)
	if got := edeCodes(resp); !slices.Equal(got, []uint16{dns.ExtendedErrorCodeStaleAnswer}) {
		t.Errorf("EDE codes %v, want [3]", got)
	}

	<-up.entered
	up.release() // the slow refresh finishes in the background and updates the entry
	c.Wait()
	resp = ask(t, ex, query("a.example.", dns.TypeA))
	wantCalls(t, up, 2)
	if resp.Answer[0].(*dns.A).A.String() != "192.0.2.2" || len(edeCodes(resp)) != 0 {
		t.Errorf("after the background refresh got %v, want the new record as a hit", resp)
	}
}

func TestStaleNXDOMAINCarriesBothStaleCodes(t *testing.T) {
	c, clock := newTestCache(t, Options{ServeStale: true})
	up := newUpstream(replyWith(t, dns.RcodeNameError, nil,
		"example. 60 IN SOA ns.example. host.example. 1 3600 600 86400 60"))
	ex := c.Wrap("", up)
	ask(t, ex, query("a.example.", dns.TypeA))
	clock.Advance(time.Minute)
	up.set(failing)
	resp := ask(t, ex, query("a.example.", dns.TypeA))
	if resp.Rcode != dns.RcodeNameError {
		t.Errorf("rcode %s, want NXDOMAIN", dns.RcodeToString[resp.Rcode])
	}
	if got := edeCodes(resp); !slices.Equal(got, []uint16{dns.ExtendedErrorCodeStaleAnswer, dns.ExtendedErrorCodeStaleNXDOMAINAnswer}) {
		t.Errorf("EDE codes %v, want [3 19] (Stale Answer, Stale NXDOMAIN Answer)", got)
	}
}

func TestStaleNotServed(t *testing.T) {
	tests := []struct {
		name       string
		serveStale bool
		age        time.Duration
	}{
		{"beyond StaleMaxAge", true, time.Minute + 24*time.Hour},
		{"serve-stale off", false, 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clock := newTestCache(t, Options{ServeStale: tt.serveStale, StaleMaxAge: 24 * time.Hour})
			up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 60 IN A 192.0.2.1"}))
			ex := c.Wrap("", up)
			ask(t, ex, query("a.example.", dns.TypeA))
			clock.Advance(tt.age)
			up.set(failing)
			_, err := ex.Exchange(context.Background(), query("a.example.", dns.TypeA))
			if !errors.Is(err, errUpstreamDown) {
				t.Fatalf("got error %v, want the upstream failure instead of a stale answer", err)
			}
			if got := c.Stats().StaleServed; got != 0 {
				t.Errorf("StaleServed %d, want 0", got)
			}
		})
	}
}
