package resolver

import (
	"context"
	"log/slog"
	"net/netip"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Observer is told about private outcomes; metrics implement it. Methods
// must be cheap and safe for concurrent use.
type Observer interface {
	// PrivateAnswer counts one R3/R4 outcome: "answer", "nodata",
	// "nxdomain" or "fallback".
	PrivateAnswer(zone, link, outcome string)
	// CNAMEIntoPrivate counts a public CNAME cut at a linked zone (R5).
	CNAMEIntoPrivate(zone string)
	// NXDomain names the missing name of a private NXDOMAIN answered under
	// a Default link (the CNAME target when a chain led there), with the
	// zone (FQDN), the client's network and the link: the admin API's
	// report of names most often missing. It follows the "nxdomain"
	// PrivateAnswer of the same step.
	NXDomain(zone, network, link, name string)
}

// EngineOptions configures an Engine.
type EngineOptions struct {
	View     *View        // required: the first configuration
	Logger   *slog.Logger // nil: discard
	Observer Observer     // nil: no metrics
}

// Engine is the Resolver at the heart of privdns: it resolves each query
// against the View current when the query arrived. Swap replaces the View
// atomically (reload) without locks on the query path.
type Engine struct {
	view atomic.Pointer[View]
	log  *slog.Logger
	obs  Observer
}

var _ Resolver = (*Engine)(nil)

// NewEngine returns an Engine serving opts.View.
func NewEngine(opts EngineOptions) *Engine {
	e := &Engine{log: opts.Logger, obs: opts.Observer}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.obs == nil {
		e.obs = nopObserver{}
	}
	e.view.Store(opts.View)
	return e
}

// NetworkOf names the network of a client as R1 chooses it ("" when the
// client is in none), for queries answered before resolution.
func (e *Engine) NetworkOf(listenerNet string, client netip.Addr) string {
	return e.view.Load().NetworkOf(listenerNet, client)
}

// Swap makes v the View for every query that starts from now on and
// returns the previous one.
func (e *Engine) Swap(v *View) *View { return e.view.Swap(v) }

// View returns the current View.
func (e *Engine) View() *View { return e.view.Load() }

// Observer returns what the Engine tells about private outcomes, for
// callers that answer again without resolving (ready-packed replies).
func (e *Engine) Observer() Observer { return e.obs }

// Resolve answers q: REFUSED for clients in no network (R1), otherwise the
// private and public chain of R2–R6.
func (e *Engine) Resolve(ctx context.Context, q *Query) (*dns.Msg, error) {
	if len(q.Msg.Question) != 1 {
		return nil, ErrNoQuestion
	}
	v := e.view.Load()
	q.View = v
	nv, matched := v.network(q.Network, q.Client)
	if nv == nil {
		q.trace("network: none (source %s is in no network's addressPrefixes) → REFUSED", q.Client)
		resp := new(dns.Msg)
		resp.SetRcode(q.Msg, dns.RcodeRefused)
		return resp, nil
	}
	if q.Trace != nil {
		q.trace("network: %s (%s)", nv.name, why(q.Network, q.Client, matched))
	}
	q.Network = nv.name

	w := newWalk(ctx, v, nv, q, e.obs)
	if err := w.run(); err != nil {
		q.Path = w.path // a failed fallback is still a fallback in the query log
		q.trace("no answer: %v → SERVFAIL", err)
		if len(w.ede) > 0 {
			// A fallback that found no public answer still explains itself.
			return nil, &ExplainedError{Err: err, EDE: w.ede}
		}
		return nil, err
	}
	return w.finish(), nil
}

type nopObserver struct{}

func (nopObserver) PrivateAnswer(string, string, string)    {}
func (nopObserver) CNAMEIntoPrivate(string)                 {}
func (nopObserver) NXDomain(string, string, string, string) {}

// ExplainedError is "no answer" with the Extended DNS Errors the chain had
// collected before it failed (R8), for the SERVFAIL to carry.
type ExplainedError struct {
	Err error
	EDE []dns.EDNS0_EDE
}

func (e *ExplainedError) Error() string { return e.Err.Error() }
func (e *ExplainedError) Unwrap() error { return e.Err }
