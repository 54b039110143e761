package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// exchangeFunc is an Exchanger made of a function.
type exchangeFunc func(ctx context.Context, req *dns.Msg) (*dns.Msg, error)

func (f exchangeFunc) Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	return f(ctx, req)
}

// untilDeadline is a query's context as the server makes it: a
// report.Query, which ends only at its deadline.
func untilDeadline(t *testing.T, deadline time.Time) context.Context {
	q := &report.Query{}
	q.Init(&report.Report{}, deadline)
	t.Cleanup(q.End)
	return q
}

// TestAMissRunsItsFetchWithinTheWaitersDeadline: a query whose context
// ends only at its deadline, with nothing stale to answer, has its fetch
// bounded by that deadline (it runs on the query's goroutine); any other
// query's fetch is detached, with no deadline, to be cached whoever waits.
func TestAMissRunsItsFetchWithinTheWaitersDeadline(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	answer := replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"})
	var seen []time.Time
	ex := c.Wrap("", exchangeFunc(func(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
		d, _ := ctx.Deadline()
		seen = append(seen, d)
		return answer(req)
	}))
	deadline := time.Now().Add(time.Hour).Truncate(time.Second)
	if _, err := ex.Exchange(untilDeadline(t, deadline), query("a.example.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if _, err := ex.Exchange(ctx, query("b.example.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	if len(seen) != 2 || !seen[0].Equal(deadline) || !seen[1].IsZero() {
		t.Fatalf("the upstream saw deadlines %v; want %v (inline), then none (detached)", seen, deadline)
	}
	if got := c.Stats().Entries; got != 2 {
		t.Errorf("%d entries; want both answers kept", got)
	}
}

// TestAFetchCutByItsWaitersDeadlineGoesOn: the waiter gets its deadline's
// error; the fetch starts again in the background, without a deadline, as
// a background fetch would have gone on: its answer is cached for the next
// query, and nothing of the exchange cut short is remembered.
func TestAFetchCutByItsWaitersDeadlineGoesOn(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	answer := replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"})
	var calls atomic.Int32
	ex := c.Wrap("", exchangeFunc(func(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
		calls.Add(1)
		if err := ctx.Err(); err != nil {
			return nil, err // as the upstream group does when its deadline passed
		}
		return answer(req)
	}))
	q := query("a.example.", dns.TypeA)
	if _, err := ex.Exchange(untilDeadline(t, time.Now().Add(-time.Millisecond)), q); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("past the deadline: %v; want DeadlineExceeded", err)
	}
	c.Wait()
	var rep report.Report
	if _, err := ex.Exchange(report.With(context.Background(), &rep), q.Copy()); err != nil || rep.Cache != report.Hit {
		t.Fatalf("the next query: %v, outcome %v; want a hit on what the fetch that went on cached", err, rep.Cache)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d upstream calls; want 2 (cut short, then again in the background)", n)
	}
}

// TestAQueryJoiningAnInlineFetchOutlivesItsDeadline: a later query with
// more time gets the answer the first one's deadline cut short.
func TestAQueryJoiningAnInlineFetchOutlivesItsDeadline(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	answer := replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"})
	entered, gate := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	ex := c.Wrap("", exchangeFunc(func(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-gate
			return nil, ctx.Err() // its deadline has passed
		}
		return answer(req)
	}))
	joined := make(chan struct{}, 1)
	c.flight.joined = func() { joined <- struct{}{} }
	first, second := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := ex.Exchange(untilDeadline(t, time.Now().Add(-time.Millisecond)), query("a.example.", dns.TypeA))
		first <- err
	}()
	<-entered
	go func() {
		_, err := ex.Exchange(untilDeadline(t, time.Now().Add(time.Hour)), query("a.example.", dns.TypeA))
		second <- err
	}()
	<-joined
	close(gate)
	if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the first query: %v; want its deadline's error", err)
	}
	if err := <-second; err != nil {
		t.Errorf("the query that joined: %v; want the answer", err)
	}
}

// TestAnInlineFetchIsJoined: requests for the key while an inline fetch
// runs wait for it and share its answer; one upstream query.
func TestAnInlineFetchIsJoined(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	up.blocking(t)
	joined := make(chan struct{}, 1)
	c.flight.joined = func() { joined <- struct{}{} }
	ex := c.Wrap("", up)
	first, second := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := ex.Exchange(untilDeadline(t, time.Now().Add(time.Hour)), query("a.example.", dns.TypeA))
		first <- err
	}()
	<-up.entered
	go func() {
		_, err := ex.Exchange(context.Background(), query("a.example.", dns.TypeA))
		second <- err
	}()
	<-joined
	up.release()
	if err1, err2 := <-first, <-second; err1 != nil || err2 != nil {
		t.Fatalf("errors %v, %v; want both answered", err1, err2)
	}
	if n := up.calls.Load(); n != 1 {
		t.Errorf("%d upstream calls; want 1", n)
	}
}

// TestAPanickingInlineFetchLeavesNoCallBehind: the panic reaches the
// query's goroutine (the server recovers it there), and the next miss for
// the key asks the upstream again instead of waiting on a dead call.
func TestAPanickingInlineFetchLeavesNoCallBehind(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	calls := 0
	answer := replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"})
	ex := c.Wrap("", exchangeFunc(func(_ context.Context, req *dns.Msg) (*dns.Msg, error) {
		if calls++; calls == 1 {
			panic("upstream bug")
		}
		return answer(req)
	}))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the waiter")
			}
		}()
		_, _ = ex.Exchange(untilDeadline(t, time.Now().Add(time.Hour)), query("a.example.", dns.TypeA))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ex.Exchange(ctx, query("a.example.", dns.TypeA)); err != nil || calls != 2 {
		t.Fatalf("after the panic: %v, %d calls; want an answer from a second call", err, calls)
	}
}
