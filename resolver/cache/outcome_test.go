package cache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

func TestOutcomeRecordsMissHitAndStale(t *testing.T) {
	c, clock := newTestCache(t, Options{ServeStale: true})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 60 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	outcome := func() report.Outcome {
		rep := report.Report{Cache: report.Outcome(255)}
		if _, err := ex.Exchange(report.With(context.Background(), &rep), query("a.example.", dns.TypeA)); err != nil {
			t.Fatal(err)
		}
		return rep.Cache
	}
	if o := outcome(); o != report.Outcome(255) && o != report.Miss {
		t.Errorf("first exchange: %v, want a miss", o)
	}
	if o := outcome(); o != report.Hit {
		t.Errorf("second exchange: %v, want Hit", o)
	}
	clock.Advance(time.Hour)
	up.set(failing)
	if o := outcome(); o != report.Stale {
		t.Errorf("after expiry with the upstream down: %v, want Stale", o)
	}
	// Without a Report nothing is recorded and nothing breaks.
	if _, err := ex.Exchange(context.Background(), query("a.example.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
}

func TestFreshnessSaysHowLongAnAnswerHolds(t *testing.T) {
	c, clock := newTestCache(t, Options{ServeStale: true, Prefetch: true})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 100 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	fresh := func() report.Freshness {
		var rep report.Report
		if _, err := ex.Exchange(report.With(context.Background(), &rep), query("a.example.", dns.TypeA)); err != nil {
			t.Fatal(err)
		}
		return rep.Fresh
	}
	start := clock.Now()
	// Fetched: until the prefetch window opens at 90 s of 100.
	if got := fresh(); !got.Kept || !got.Until.Equal(start.Add(90*time.Second)) || got.Age != 0 || !got.Stored.Equal(start) {
		t.Errorf("after the fetch: %+v", got)
	}
	clock.Advance(30*time.Second + 500*time.Millisecond)
	if got := fresh(); !got.Kept || !got.Until.Equal(start.Add(90*time.Second)) || got.Age != 30 {
		t.Errorf("a hit 30.5 s later: %+v, want age 30", got)
	}
	clock.Advance(2 * time.Hour)
	up.set(failing)
	if got := fresh(); got.Kept {
		t.Errorf("a stale answer is kept: %+v", got)
	}
}

func TestFreshnessIsCurrentWhileTheCacheHoldsTheEntry(t *testing.T) {
	c, clock := newTestCache(t, Options{MaxEntries: 2})
	ex := c.Wrap("", newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 60 IN A 192.0.2.1"})))
	fresh := func(name string) report.Freshness {
		var rep report.Report
		if _, err := ex.Exchange(report.With(context.Background(), &rep), query(name, dns.TypeA)); err != nil {
			t.Fatal(err)
		}
		return rep.Fresh
	}
	a := fresh("a.example.")
	if !a.Current() {
		t.Fatal("a fresh entry is not current")
	}
	fresh("b.example.")
	fresh("c.example.") // evicts a.example.
	if a.Current() {
		t.Error("an evicted entry is still current")
	}
	b := fresh("b.example.")
	clock.Advance(2 * time.Minute)
	if b2 := fresh("b.example."); !b2.Current() || b.Current() {
		t.Errorf("after a refresh: new entry current %v, replaced one current %v; want true, false", b2.Current(), b.Current())
	}
	var none report.Freshness
	if none.Current() {
		t.Error("the zero Freshness is current")
	}
}

func TestOnlyCachedAnswersFromTheCacheOrFailsAtOnce(t *testing.T) {
	c, clock := newTestCache(t, Options{ServeStale: true, Prefetch: true})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 100 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	held := report.With(context.Background(), &report.Report{OnlyCached: true})
	if _, err := ex.Exchange(held, query("a.example.", dns.TypeA)); !errors.Is(err, ErrNotCached) {
		t.Fatalf("a miss: %v, want ErrNotCached", err)
	}
	wantCalls(t, up, 0)
	ask(t, ex, query("a.example.", dns.TypeA))
	clock.Advance(95 * time.Second) // in the prefetch window: no prefetch is started
	if m, err := ex.Exchange(held, query("a.example.", dns.TypeA)); err != nil || len(m.Answer) != 1 {
		t.Fatalf("a hit: %v %v", m, err)
	}
	clock.Advance(time.Hour) // expired: stale, at once, no refresh
	m, err := ex.Exchange(held, query("a.example.", dns.TypeA))
	if err != nil || len(m.Answer) != 1 || m.Answer[0].Header().Ttl != 30 {
		t.Fatalf("an expired entry: %v %v, want the stale answer", m, err)
	}
	c.Wait()
	wantCalls(t, up, 1)
}
