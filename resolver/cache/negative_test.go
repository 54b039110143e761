package cache

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestNegativeAnswersCachedForSOAMinimum(t *testing.T) {
	const soa3600min300 = "example.com. 3600 IN SOA ns.example.com. host.example.com. 1 3600 600 86400 300"
	tests := []struct {
		name      string
		rcode     int
		answer    []string
		authority []string
		maxNeg    time.Duration
		cachedFor time.Duration // 0: not cached at all
	}{
		{"NXDOMAIN uses SOA MINIMUM below the SOA TTL", dns.RcodeNameError, nil,
			[]string{soa3600min300}, 0, 300 * time.Second},
		{"NXDOMAIN uses the SOA TTL below MINIMUM", dns.RcodeNameError, nil,
			[]string{"example.com. 60 IN SOA ns.example.com. host.example.com. 1 3600 600 86400 300"}, 0, 60 * time.Second},
		{"MaxNegativeTTL caps it", dns.RcodeNameError, nil,
			[]string{soa3600min300}, 100 * time.Second, 100 * time.Second},
		{"NODATA with an empty answer", dns.RcodeSuccess, nil,
			[]string{soa3600min300}, 0, 300 * time.Second},
		{"NODATA after a CNAME chain", dns.RcodeSuccess,
			[]string{"@ 3600 IN CNAME b.example.com."}, []string{soa3600min300}, 0, 300 * time.Second},
		{"NXDOMAIN without SOA is not cached", dns.RcodeNameError, nil, nil, 0, 0},
		{"NODATA without SOA is not cached", dns.RcodeSuccess, nil, nil, 0, 0},
		{"SOA MINIMUM 0 is not cached", dns.RcodeNameError, nil,
			[]string{"example.com. 3600 IN SOA ns.example.com. host.example.com. 1 3600 600 86400 0"}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clock := newTestCache(t, Options{MaxNegativeTTL: tt.maxNeg})
			up := newUpstream(replyWith(t, tt.rcode, tt.answer, tt.authority...))
			ex := c.Wrap("", up)

			first := ask(t, ex, query("a.example.com.", dns.TypeA))
			if first.Rcode != tt.rcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[first.Rcode], dns.RcodeToString[tt.rcode])
			}
			if tt.cachedFor == 0 {
				ask(t, ex, query("a.example.com.", dns.TypeA))
				wantCalls(t, up, 2)
				return
			}
			if got, want := first.Ns[0].Header().Ttl, uint32(tt.cachedFor/time.Second); got != want {
				t.Errorf("SOA TTL %d, want the negative TTL %d (RFC 2308 §3)", got, want)
			}
			clock.Advance(tt.cachedFor - time.Second)
			resp := ask(t, ex, query("a.example.com.", dns.TypeA))
			wantCalls(t, up, 1)
			if resp.Rcode != tt.rcode || resp.Ns[0].Header().Ttl != 1 {
				t.Errorf("cached reply rcode %s SOA TTL %d, want %s and 1",
					dns.RcodeToString[resp.Rcode], resp.Ns[0].Header().Ttl, dns.RcodeToString[tt.rcode])
			}
			clock.Advance(time.Second)
			ask(t, ex, query("a.example.com.", dns.TypeA))
			wantCalls(t, up, 2)
		})
	}
}

func TestFailureRememberedForFailureTTL(t *testing.T) {
	c, clock := newTestCache(t, Options{FailureTTL: 5 * time.Second})
	up := newUpstream(failing)
	ex := c.Wrap("", up)

	if _, err := ex.Exchange(t.Context(), query("a.example.", dns.TypeA)); !errors.Is(err, errUpstreamDown) {
		t.Fatalf("first error %v, want the upstream's", err)
	}
	clock.Advance(4 * time.Second)
	_, err := ex.Exchange(t.Context(), query("a.example.", dns.TypeA))
	if !errors.Is(err, ErrFailureRemembered) || !errors.Is(err, errUpstreamDown) {
		t.Fatalf("error within FailureTTL %v, want ErrFailureRemembered wrapping the upstream's", err)
	}
	wantCalls(t, up, 1)

	other := query("b.example.", dns.TypeA)
	up.set(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	ask(t, ex, other)
	wantCalls(t, up, 2) // the failure is per key, not per upstream

	clock.Advance(time.Second)
	ask(t, ex, query("a.example.", dns.TypeA))
	wantCalls(t, up, 3)
}

func TestCNAMEChainWithoutDataOrSOAIsCachedForItsTTL(t *testing.T) {
	// An authoritative server that does not chase chains answers just the
	// CNAME: a positive answer for the CNAME's TTL, not an uncacheable
	// negative one.
	c, clock := newTestCache(t, Options{})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 120 IN CNAME b.example.net."}))
	ex := c.Wrap("", up)
	ask(t, ex, query("a.example.com.", dns.TypeA))
	clock.Advance(119 * time.Second)
	resp := ask(t, ex, query("a.example.com.", dns.TypeA))
	wantCalls(t, up, 1)
	wantTTLs(t, resp, 1)
	clock.Advance(time.Second)
	ask(t, ex, query("a.example.com.", dns.TypeA))
	wantCalls(t, up, 2)
}

func TestNegativeAnswerLivesNoLongerThanItsCNAMEs(t *testing.T) {
	const soa = "example.com. 3600 IN SOA ns.example.com. host.example.com. 1 3600 600 86400 300"
	c, clock := newTestCache(t, Options{MinTTL: 8 * time.Second, MaxTTL: 40 * time.Second})
	short := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 4 IN CNAME b.example.com."}, soa))
	long := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 60 IN CNAME b.example.com."}, soa))
	for _, tc := range []struct {
		name    string
		up      *fakeUpstream
		wantTTL uint32 // the CNAME's TTL as served: clamped into [8, 40]
	}{{"a CNAME of 4 s is raised to minTTL 8", short, 8}, {"a CNAME of 60 s is cut to maxTTL 40", long, 40}} {
		t.Run(tc.name, func(t *testing.T) {
			c.Purge()
			ex := c.Wrap(tc.name, tc.up)
			resp := ask(t, ex, query("a.example.com.", dns.TypeTXT))
			if got := resp.Answer[0].Header().Ttl; got != tc.wantTTL {
				t.Fatalf("CNAME TTL %d, want %d", got, tc.wantTTL)
			}
			calls := tc.up.calls.Load()
			clock.Advance(time.Duration(tc.wantTTL-1) * time.Second)
			ask(t, ex, query("a.example.com.", dns.TypeTXT))
			if tc.up.calls.Load() != calls {
				t.Fatalf("asked again before the CNAME's TTL ran out")
			}
			clock.Advance(time.Second)
			ask(t, ex, query("a.example.com.", dns.TypeTXT))
			if tc.up.calls.Load() != calls+1 {
				t.Errorf("not asked again when the CNAME's TTL ran out (entry kept for the SOA's 300 s)")
			}
		})
	}
}

func TestNegativeTTLComesFromTheNamesOwnZone(t *testing.T) {
	const (
		stray    = "unrelated.org. 40 IN SOA ns.unrelated.org. host.unrelated.org. 1 3600 600 86400 40"
		example  = "example.com. 3600 IN SOA ns.example.com. host.example.com. 1 3600 600 86400 300"
		otherNet = "other.net. 120 IN SOA ns.other.net. host.other.net. 1 3600 600 86400 900"
		short    = "example.com. 3600 IN SOA ns.example.com. host.example.com. 1 3600 600 86400 60"
	)
	tests := []struct {
		name      string
		answer    []string
		authority []string
		cachedFor time.Duration // 0: not cached
	}{
		{"a stray SOA before the zone's own", nil, []string{stray, example}, 300 * time.Second},
		{"only a stray SOA: as good as none", nil, []string{stray}, 0},
		{"a child zone's SOA does not speak for the parent", nil, []string{"b.a.example.com. 60 IN SOA ns. host. 1 3600 600 86400 60"}, 0},
		{"after a CNAME, the target's zone", []string{"@ 3600 IN CNAME x.other.net."}, []string{example, otherNet}, 120 * time.Second},
		{"a CNAME of another class is no step of the chain", []string{"@ 3600 HS CNAME x.other.net."}, []string{example, otherNet}, 300 * time.Second},
		{"NODATA with the asked type in another class", []string{"@ 3600 CH A 192.0.2.1"}, []string{short}, 60 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clock := newTestCache(t, Options{})
			rcode := dns.RcodeNameError
			if tt.authority[0] == short {
				rcode = dns.RcodeSuccess
			}
			up := newUpstream(replyWith(t, rcode, tt.answer, tt.authority...))
			ex := c.Wrap("", up)
			ask(t, ex, query("a.example.com.", dns.TypeA))
			if tt.cachedFor == 0 {
				ask(t, ex, query("a.example.com.", dns.TypeA))
				wantCalls(t, up, 2)
				return
			}
			clock.Advance(tt.cachedFor - time.Second)
			ask(t, ex, query("a.example.com.", dns.TypeA))
			wantCalls(t, up, 1)
			clock.Advance(time.Second)
			ask(t, ex, query("a.example.com.", dns.TypeA))
			wantCalls(t, up, 2)
		})
	}
}

// fleetingErr is how the upstream package says no query was sent (every
// target busy or down): nothing an upstream answered.
type fleetingErr struct{}

func (fleetingErr) Error() string  { return "every upstream target is at its in-flight limit" }
func (fleetingErr) Fleeting() bool { return true }

func TestFleetingFailuresAreNotRemembered(t *testing.T) {
	c, _ := newTestCache(t, Options{FailureTTL: 5 * time.Second})
	up := newUpstream(func(*dns.Msg) (*dns.Msg, error) { return nil, fmt.Errorf("group: %w", fleetingErr{}) })
	ex := c.Wrap("", up)
	if _, err := ex.Exchange(t.Context(), query("a.example.", dns.TypeA)); err == nil {
		t.Fatal("no error")
	}
	up.set(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	if m := ask(t, ex, query("a.example.", dns.TypeA)); len(m.Answer) != 1 {
		t.Fatalf("the next query, with the upstream free again: %v", m)
	}
	wantCalls(t, up, 2)
}

func TestNegativeAnswersKeepTheirProofsTTLsWithTheSOAs(t *testing.T) {
	c, _ := newTestCache(t, Options{MaxNegativeTTL: 20 * time.Second})
	up := newUpstream(replyWith(t, dns.RcodeNameError, nil,
		"example.com. 300 IN SOA ns.example.com. host.example.com. 1 3600 600 86400 60",
		"example.com. 300 IN RRSIG SOA 13 2 300 20300101000000 20200101000000 1 example.com. AAAA",
		"mx.example.com. 60 IN NSEC ny.example.com. A RRSIG NSEC",
		"mx.example.com. 60 IN RRSIG NSEC 13 3 60 20300101000000 20200101000000 1 example.com. AAAA",
	))
	m := ask(t, c.Wrap("", up), query("nx.example.com.", dns.TypeA))
	for _, rr := range m.Ns {
		if rr.Header().Ttl != 20 {
			t.Errorf("%s: TTL %d, want 20 like the SOA (MaxNegativeTTL)", rr, rr.Header().Ttl)
		}
	}
}
