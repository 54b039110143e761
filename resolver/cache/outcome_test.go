package cache

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestOutcomeRecordsMissHitAndStale(t *testing.T) {
	c, clock := newTestCache(t, Options{ServeStale: true})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 60 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	outcome := func() Outcome {
		o := Outcome(255)
		if _, err := ex.Exchange(WithOutcome(context.Background(), &o), query("a.example.", dns.TypeA)); err != nil {
			t.Fatal(err)
		}
		return o
	}
	if o := outcome(); o != Outcome(255) && o != Miss {
		t.Errorf("first exchange: %v, want a miss", o)
	}
	if o := outcome(); o != Hit {
		t.Errorf("second exchange: %v, want Hit", o)
	}
	clock.advance(time.Hour)
	up.set(failing)
	if o := outcome(); o != Stale {
		t.Errorf("after expiry with the upstream down: %v, want Stale", o)
	}
	// Without WithOutcome nothing is recorded and nothing breaks.
	if _, err := ex.Exchange(context.Background(), query("a.example.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
}

func TestFreshnessSaysHowLongAnAnswerHolds(t *testing.T) {
	c, clock := newTestCache(t, Options{ServeStale: true, Prefetch: true})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 100 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	fresh := func() time.Duration {
		d := time.Duration(-1)
		if _, err := ex.Exchange(WithFreshness(context.Background(), &d), query("a.example.", dns.TypeA)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Fetched: until the prefetch window opens at 90 s of 100.
	if got := fresh(); got != 90*time.Second {
		t.Errorf("after the fetch: %v, want 90s", got)
	}
	clock.advance(30 * time.Second)
	if got := fresh(); got != 60*time.Second {
		t.Errorf("a hit 30 s later: %v, want 60s", got)
	}
	clock.advance(2 * time.Hour)
	up.set(failing)
	if got := fresh(); got != 0 {
		t.Errorf("a stale answer: %v, want 0", got)
	}
}
