package upstream

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// TestAnExchangeEndsAtADetachedDeadline: a cache's inline fetch runs on a
// report.Detached with the query's deadline. Waiting for a probe sent on
// the side (a target down and due for one) must end at that deadline, not
// at the probe's timeout, as with any context.
func TestAnExchangeEndsAtADetachedDeadline(t *testing.T) {
	a := newFake(t, silent)
	b := newFake(t, rcode(dns.RcodeServerFailure))
	clk := newClock()
	const timeout = 2 * time.Second
	g, err := NewGroup(GroupOptions{Targets: []string{a.addr, b.addr}, Timeout: timeout,
		FailThreshold: 1, Backoff: time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	_, _ = g.Exchange(context.Background(), newReq("x.example.")) // a times out: down
	clk.Advance(2 * time.Second)                                  // a is due for its probe
	var d report.Detached
	d.Init(context.Background())
	d.SetDeadline(time.Now().Add(100 * time.Millisecond))
	start := time.Now()
	_, err = g.Exchange(&d, newReq("y.example."))
	if took := time.Since(start); err == nil || took >= timeout*3/4 {
		t.Errorf("took %v, err %v; want an error at the 100 ms deadline, long before the probe's %v timeout", took, err, timeout)
	}
}
