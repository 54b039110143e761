package upstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// outcome is what one target did with one query.
type outcome int

const (
	answered   outcome = iota
	failed             // tried; unusable reply, timeout or network error
	overloaded         // skipped: MaxInFlight reached
	down               // skipped: marked down and not due for a probe
	stopped            // the caller's ctx ended the attempt
	sideProbe          // down and due for its probe, which is to go on the side
)

// Exchange sends req to the targets in policy order until one answers
// NOERROR or NXDOMAIN, and returns that reply with req's ID. req is not
// modified. Errors wrap ErrNoAnswer (plus ErrAllDown or ctx's error when
// those are why), ErrOverloaded or ErrBadRequest.
func (g *Group) Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	q, err := newQuery(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g.name, err)
	}
	defer q.free()
	var (
		sum    summary
		asides chan probeResult // the replies of down targets probed on the side
		probes int
	)
	n, start := len(g.targets), g.first()
	for i := 0; i < n && ctx.Err() == nil && !sum.stopped; i++ {
		t := g.targets[(start+i)%n]
		a := g.try(ctx, t, q, start, i)
		if a.res == answered {
			g.probeDueAfter(q, start, i)
			return g.answer(ctx, req, t, a.m), nil
		}
		if a.res == sideProbe {
			if asides == nil {
				asides = make(chan probeResult, n)
			}
			g.probeAside(t, q, asides)
			probes++
			continue
		}
		sum.add(t.spec, a.res, a.err)
	}
	// Every target after the probed ones failed this query: the probes
	// are its last chance, as if they had been sent inline.
	for ; probes > 0 && ctx.Err() == nil && !sum.stopped; probes-- {
		select {
		case r := <-asides:
			if r.err == nil {
				return g.answer(ctx, req, r.t, r.m), nil
			}
			sum.add(r.t.spec+" (probed)", failed, r.err)
		case <-ctx.Done():
		}
	}
	return nil, sum.err(ctx, g.name, q.q)
}

// answer makes target t's reply m the answer to req.
func (g *Group) answer(ctx context.Context, req *dns.Msg, t *target, m *dns.Msg) *dns.Msg {
	m.Id = req.Id
	zeroHugeTTLs(m)
	noteAnswerer(ctx, t.spec)
	return m
}

// attempt is what try did with one target.
type attempt struct {
	m   *dns.Msg
	res outcome
	err error
}

// try runs one attempt on t, the i-th target of an Exchange that started
// at start, unless t is at its in-flight cap or down, and feeds the result
// to health, logs and the observer. A down target due for its probe is
// to be probed on the side (outcome sideProbe) while a target after it
// is up, so that the query does not wait on a target that may still be
// dead.
func (g *Group) try(ctx context.Context, t *target, q *query, start, i int) attempt {
	if t.inFlight.Add(1) > g.maxInFlight {
		t.inFlight.Add(-1)
		return attempt{res: overloaded}
	}
	defer t.inFlight.Add(-1)
	// Clock readings are a fair part of an exchange's own CPU: with the
	// system clock, one serves health, the deadline and the start, one
	// the end.
	sent := g.now()
	ok, probe := t.health.admit(sent)
	if !ok {
		return attempt{res: down}
	}
	if probe && g.upAfter(start, i) {
		return attempt{res: sideProbe} // admitted as the probe: the caller sends it
	}
	begin := sent
	if !g.wall {
		begin = time.Now()
	}
	deadline, capped := begin.Add(g.timeout), false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, capped = d, true
	}
	m, begin, err := g.exchange(ctx, t, q, deadline, begin)
	if errors.Is(err, ErrBudget) {
		t.health.release(probe) // nothing was sent: says nothing of t
		return attempt{res: stopped, err: err}
	}
	end := time.Now()
	alive, err := g.judge(t, q, m, err, end.Sub(begin))
	if err != nil && (ctx.Err() != nil || (capped && isTimeout(err))) {
		t.health.release(probe) // the caller gave up; says nothing of t
		return attempt{res: stopped, err: err}
	}
	timedOut := err != nil && isTimeout(err)
	if timedOut && t.health.excuse(sent) {
		t.health.release(probe) // t answers others meanwhile: this name's trouble
		return attempt{res: failed, err: err}
	}
	at := end
	if !g.wall {
		at = g.now()
	}
	g.report(t, at, alive, probe, timedOut, err)
	if err != nil {
		return attempt{res: failed, err: err}
	}
	return attempt{m: m, res: answered}
}

// judge tells the observer and the debug log about an attempt, and
// reports whether the target is alive and whether the reply is unusable.
// A SERVFAIL usually speaks of one broken domain, not of the target: the
// query fails over, but the target's health is not charged. Any other
// unusable reply (REFUSED: an ACL; FORMERR, NOTIMP) is.
func (g *Group) judge(t *target, q *query, m *dns.Msg, err error, took time.Duration) (alive bool, _ error) {
	label := attemptLabel(m, err)
	alive = err == nil && (m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError || m.Rcode == dns.RcodeServerFailure)
	if err == nil && m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		err = fmt.Errorf("rcode %s", label)
	}
	if g.obs != nil {
		g.obs.Request(t.spec, label, took)
	}
	if err != nil {
		g.log.Debug("upstream attempt failed", "group", g.name, "target", t.spec,
			"name", q.q.Name, "type", dns.TypeToString[q.q.Qtype], "err", err)
	}
	return alive, err
}

// upAfter reports whether a target after the i-th of an Exchange that
// started at start is up and below its in-flight cap.
func (g *Group) upAfter(start, i int) bool {
	n := len(g.targets)
	for j := i + 1; j < n; j++ {
		u := g.targets[(start+j)%n]
		if !u.health.isDown() && u.inFlight.Load() < g.maxInFlight {
			return true
		}
	}
	return false
}

// probeDueAfter probes, on the side, the down targets after the i-th of
// an Exchange that started at start whose back-off is over: with the
// sequential policy a later target is otherwise asked only when the ones
// before it fail, and would stay marked down (and its gauge at 0) long
// after it came back.
func (g *Group) probeDueAfter(q *query, start, i int) {
	n := len(g.targets)
	for j := i + 1; j < n; j++ {
		t := g.targets[(start+j)%n]
		if !t.health.isDown() {
			continue
		}
		if ok, probe := t.health.admit(g.now()); ok && probe {
			g.probeAside(t, q, nil)
		}
	}
}

// probeResult is a side probe's usable reply, or why there is none.
type probeResult struct {
	t   *target
	m   *dns.Msg
	err error
}

// probeAside sends q to down target t on its own goroutine; t has
// admitted it as its probe. The reply tells whether t is back, and goes
// to result (unless nil; it must have room) in case the query has no
// other answer.
func (g *Group) probeAside(t *target, q *query, result chan<- probeResult) {
	send := func(r probeResult) {
		if result != nil {
			result <- r
		}
	}
	g.closeMu.Lock()
	defer g.closeMu.Unlock()
	if g.closed.Err() != nil {
		t.health.release(true)
		send(probeResult{t: t, err: g.closed.Err()})
		return
	}
	q = q.clone()
	g.probes.Add(1)
	go func() {
		defer g.probes.Done()
		defer q.free()
		begin := time.Now()
		m, begin, err := g.exchange(g.closed, t, q, begin.Add(g.timeout), begin)
		if g.closed.Err() != nil { // Close ended it: says nothing of t
			t.health.release(true)
			send(probeResult{t: t, err: g.closed.Err()})
			return
		}
		alive, err := g.judge(t, q, m, err, time.Since(begin))
		g.report(t, g.now(), alive, true, false, err)
		send(probeResult{t: t, m: m, err: err})
	}()
}

// exchange runs one attempt. A FORMERR without OPT is how a server that
// does not know EDNS answers (RFC 6891 §7): the query goes again without,
// and the observer is told of the first request.
// It returns when the request whose reply it returns was sent: begin, the
// caller's clock reading as it starts, or a later one for the retry.
func (g *Group) exchange(ctx context.Context, t *target, q *query, deadline, begin time.Time) (*dns.Msg, time.Time, error) {
	m, err := t.exchangeOnce(ctx, q, deadline)
	if err != nil || m.Rcode != dns.RcodeFormatError || m.IsEdns0() != nil {
		return m, begin, err
	}
	plain, perr := q.withoutEDNS()
	if perr != nil {
		return m, begin, err
	}
	defer plain.free()
	if g.obs != nil {
		g.obs.Request(t.spec, attemptLabel(m, nil), time.Since(begin))
	}
	begin = time.Now()
	m, err = t.exchangeOnce(ctx, plain, deadline)
	return m, begin, err
}

// exchangeOnce sends q over DNS over TLS, or UDP with a TCP retry when the
// reply is truncated.
// Each request sent spends one of the client query's budget (R11); none
// is sent without.
func (t *target) exchangeOnce(ctx context.Context, q *query, deadline time.Time) (*dns.Msg, error) {
	if !report.Spend(ctx) {
		return nil, ErrBudget
	}
	if t.tls != nil {
		return t.tls.exchange(ctx, q, deadline)
	}
	m, err := exchangeUDP(ctx, t.udpAddr, q, deadline)
	if err != nil || !m.Truncated {
		return m, err
	}
	if !report.Spend(ctx) {
		return nil, ErrBudget
	}
	return exchangeTCP(ctx, t.addr, q, deadline)
}

// report records an attempt's outcome in t's health and, when t went
// down or came back up, logs it and tells the observer.
func (g *Group) report(t *target, now time.Time, alive, probe, noted bool, err error) {
	if changed, gen := t.health.report(now, alive, probe, noted); changed {
		g.publish(t, alive, gen, err)
	}
}

// publish logs change number gen of t's health and tells the observer.
// Changes are published in the order they happened: one that lost the
// race to a newer one is dropped, so the gauge never ends on a state the
// target has left.
func (g *Group) publish(t *target, alive bool, gen uint64, err error) {
	h := t.health
	h.published.Lock()
	defer h.published.Unlock()
	if gen <= h.publishedGen || h.forgotten.Load() {
		return
	}
	h.publishedGen = gen
	if alive {
		g.log.Info("upstream target up", "group", g.name, "target", t.spec)
	} else {
		g.log.Warn("upstream target down", "group", g.name, "target", t.spec, "err", err)
	}
	if g.obs != nil {
		g.obs.Health(t.spec, alive)
	}
}

// attemptLabel names an attempt's result for the observer.
func attemptLabel(m *dns.Msg, err error) string {
	switch {
	case err == nil:
		if s, ok := dns.RcodeToString[m.Rcode]; ok {
			return s
		}
		return fmt.Sprintf("RCODE%d", m.Rcode)
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

// summary collects why each target gave no answer, for the final error.
type summary struct {
	reasons           []string
	tried, overloaded int
	stopped           bool
	budget            bool // the query's budget ran out
}

func (s *summary) add(spec string, res outcome, err error) {
	switch res {
	case overloaded:
		s.overloaded++
		s.reasons = append(s.reasons, spec+": overloaded")
	case down:
		s.reasons = append(s.reasons, spec+": down")
	case stopped:
		s.stopped = true
		s.budget = s.budget || errors.Is(err, ErrBudget)
		s.reasons = append(s.reasons, fmt.Sprintf("%s: %v", spec, err))
	default:
		s.tried++
		s.reasons = append(s.reasons, fmt.Sprintf("%s: %v", spec, err))
	}
}

// err builds the error of a failed Exchange: which sentinel, and per target
// what happened.
func (s *summary) err(ctx context.Context, group string, q dns.Question) error {
	what := fmt.Sprintf("%s: %s %s", group, q.Name, dns.TypeToString[q.Qtype])
	detail := strings.Join(s.reasons, "; ")
	ctxErr := ctx.Err()
	if s.stopped && ctxErr == nil {
		ctxErr = context.DeadlineExceeded // the attempt hit ctx's deadline first
	}
	switch {
	case s.budget:
		return fmt.Errorf("%s: %w [%s]", what, ErrBudget, detail)
	case ctxErr != nil:
		return fmt.Errorf("%s: %w: %w [%s]", what, ErrNoAnswer, ctxErr, detail)
	case s.tried == 0 && s.overloaded > 0:
		return fmt.Errorf("%s: %w [%s]", what, ErrOverloaded, detail)
	case s.tried == 0:
		return fmt.Errorf("%s: %w: %w [%s]", what, ErrNoAnswer, ErrAllDown, detail)
	}
	return fmt.Errorf("%s: %w [%s]", what, ErrNoAnswer, detail)
}

// zeroHugeTTLs treats a TTL with the most significant bit set as 0, as
// RFC 2181 §8 asks: such a record is answered once and not cached.
func zeroHugeTTLs(m *dns.Msg) {
	for _, section := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range section {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT && h.Ttl >= 1<<31 {
				h.Ttl = 0
			}
		}
	}
}
