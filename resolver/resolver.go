// Package resolver answers DNS queries for client networks: it chooses the
// network a query comes from (R1), the linked private zone that answers it
// (R2–R4), and the public route for everything else (R5, R6), and shapes
// the response on the wire (R7, R8).
//
// Sharp edge: a View is one immutable snapshot of networks, links and
// routes. Everything a query needs is read from the View it started with,
// so a reload (which swaps the View) never mixes two configurations in one
// answer; code on the query path must never keep a View beyond one query.
package resolver

import (
	"context"
	"errors"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// Resolver answers one query. NXDOMAIN and NODATA are answers (err == nil);
// an error means "no answer" and the server replies SERVFAIL.
type Resolver interface {
	Resolve(ctx context.Context, q *Query) (*dns.Msg, error)
}

// Exchanger sends one query to a public route (upstream resolvers, a
// forwarding rule's targets, or a cache in front of them). NOERROR and
// NXDOMAIN replies are answers; anything unusable is an error. req is
// handed over: the Exchanger may keep it after returning (a cache's
// refresh runs on), so the caller must not modify it afterwards; the
// reply is the caller's to keep and modify.
type Exchanger interface {
	Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error)
}

// Query is one client question on its way through the resolver.
type Query struct {
	Msg     *dns.Msg   // the request as received; never modified
	Client  netip.Addr // source address of the client
	Network string     // the client network; set by R1 when empty
	Proto   string     // "udp" or "tcp"
	Trace   Tracer     // optional: records the resolution path (privdns explain)
	// Recorder, when set, is told how the answer is built, step by step
	// (the server's ready-packed answers); nil costs nothing.
	Recorder Recorder

	// Filled in by the resolver.
	Path  string // what produced the answer: private, registered, public, fallback, localzone
	Route string // the public route asked last, if any
	View  *View  // the View it was resolved with
}

// Recorder is told how one resolution builds its answer, for a caller that
// keeps the answer in another form and must know when it stops being the
// answer (the server's ready-packed replies). It is the one hook between
// the resolver and what serves its answers. Its methods are called on the
// query's goroutine, in order, before Resolve returns.
type Recorder interface {
	// Observer hears every private outcome as it happens (the caller
	// replays them when it answers again without resolving).
	Observer
	// Exchanged follows each public exchange with what the cache said of
	// its answer: the zero Freshness when no cache kept it or the exchange
	// failed.
	Exchanged(fresh report.Freshness)
	// Added follows each record put in the answer section, then each one
	// put in the authority section, saying whether it came from the
	// public path (its TTL counts down) or from a private zone.
	Added(public bool, rr dns.RR)
}

// Tracer receives one line per resolution step. Explain uses it; on the
// query path it is nil and costs nothing.
type Tracer func(format string, args ...any)

func (q *Query) trace(format string, args ...any) {
	if q.Trace != nil {
		q.Trace(format, args...)
	}
}

// Errors that mean "no answer": the server replies SERVFAIL (or REFUSED for
// ErrRefused).
var (
	ErrChainLimit = errors.New("CNAME chain longer than 11 or looping")
	ErrNoQuestion = errors.New("query has no question")
	ErrNoUpstream = errors.New("no upstream configured")
)

// MaxCNAMEs is the longest CNAME chain followed (R3b); one more is SERVFAIL.
const MaxCNAMEs = 11
