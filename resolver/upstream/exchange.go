package upstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// outcome is what one target did with one query.
type outcome int

const (
	answered   outcome = iota
	failed             // tried; unusable reply, timeout or network error
	overloaded         // skipped: MaxInFlight reached
	down               // skipped: marked down and not due for a probe
	stopped            // the caller's ctx ended the attempt
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
	var sum summary
	n, start := len(g.targets), g.first()
	for i := 0; i < n && ctx.Err() == nil && !sum.stopped; i++ {
		t := g.targets[(start+i)%n]
		m, res, err := g.try(ctx, t, q)
		if res == answered {
			m.Id = req.Id
			zeroHugeTTLs(m)
			noteAnswerer(ctx, t.spec)
			return m, nil
		}
		sum.add(t.spec, res, err)
	}
	return nil, sum.err(ctx, g.name, q.q)
}

// try runs one attempt on t unless t is at its in-flight cap or down, and
// feeds the result to health, logs and the observer.
func (g *Group) try(ctx context.Context, t *target, q *query) (*dns.Msg, outcome, error) {
	if t.inFlight.Add(1) > g.maxInFlight {
		t.inFlight.Add(-1)
		return nil, overloaded, nil
	}
	defer t.inFlight.Add(-1)
	ok, probe := t.health.admit(g.now())
	if !ok {
		return nil, down, nil
	}
	if probe && g.othersUp(t) {
		g.probeAside(t, q.q)
		return nil, down, nil
	}
	deadline, capped := time.Now().Add(g.timeout), false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, capped = d, true
	}
	begin, sent := time.Now(), g.now()
	m, err := t.exchange(ctx, q, deadline)
	alive, err := g.judge(t, q, m, err, time.Since(begin))
	if err != nil && (ctx.Err() != nil || (capped && isTimeout(err))) {
		t.health.release(probe) // the caller gave up; says nothing of t
		return nil, stopped, err
	}
	timedOut := err != nil && isTimeout(err)
	if timedOut && t.health.excuse(sent) {
		t.health.release(probe) // t answers others meanwhile: this name's trouble
		return nil, failed, err
	}
	if t.health.report(g.now(), alive, probe, timedOut) {
		g.healthChanged(t, alive, err)
	}
	if err != nil {
		return nil, failed, err
	}
	return m, answered, nil
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

// othersUp reports whether a target other than t is up.
func (g *Group) othersUp(t *target) bool {
	for _, u := range g.targets {
		if u != t && !u.health.isDown() {
			return true
		}
	}
	return false
}

// probeAside asks down target t the question on its own goroutine; t has
// admitted it as its probe. The reply only tells whether t is back.
func (g *Group) probeAside(t *target, question dns.Question) {
	req := &dns.Msg{MsgHdr: dns.MsgHdr{RecursionDesired: true}, Question: []dns.Question{question}}
	g.closeMu.Lock()
	defer g.closeMu.Unlock()
	q, err := newQuery(req)
	if err != nil || g.closed.Err() != nil {
		if err == nil {
			q.free()
		}
		t.health.release(true)
		return
	}
	g.probes.Add(1)
	go func() {
		defer g.probes.Done()
		defer q.free()
		begin := time.Now()
		m, err := t.exchange(g.closed, q, begin.Add(g.timeout))
		alive, err := g.judge(t, q, m, err, time.Since(begin))
		if g.closed.Err() != nil {
			t.health.release(true)
			return
		}
		if t.health.report(g.now(), alive, true, false) {
			g.healthChanged(t, alive, err)
		}
	}()
}

// exchange runs one attempt. A FORMERR without OPT is how a server that
// does not know EDNS answers (RFC 6891 §7): the query goes again without.
func (t *target) exchange(ctx context.Context, q *query, deadline time.Time) (*dns.Msg, error) {
	m, err := t.exchangeOnce(ctx, q, deadline)
	if err != nil || m.Rcode != dns.RcodeFormatError || m.IsEdns0() != nil {
		return m, err
	}
	plain, perr := q.withoutEDNS()
	if perr != nil {
		return m, err
	}
	defer plain.free()
	return t.exchangeOnce(ctx, plain, deadline)
}

// exchangeOnce sends q over DNS over TLS, or UDP with a TCP retry when the
// reply is truncated.
func (t *target) exchangeOnce(ctx context.Context, q *query, deadline time.Time) (*dns.Msg, error) {
	if t.tls != nil {
		return t.tls.exchange(ctx, q, deadline)
	}
	m, err := exchangeUDP(ctx, t.udpAddr, q, deadline)
	if err != nil || !m.Truncated {
		return m, err
	}
	return exchangeTCP(ctx, t.addr, q, deadline)
}

func (g *Group) healthChanged(t *target, healthy bool, err error) {
	if healthy {
		g.log.Info("upstream target up", "group", g.name, "target", t.spec)
	} else {
		g.log.Warn("upstream target down", "group", g.name, "target", t.spec, "err", err)
	}
	if g.obs != nil && !g.retired.Load() {
		g.obs.Health(t.spec, healthy)
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
