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
// NXDOMAIN replies are answers; anything unusable is an error.
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

	// Filled in by the resolver for query logs.
	Path  string // what produced the answer: private, public, fallback
	Route string // the public route asked last, if any

	view   *View         // the View it was resolved with
	pack   *packInfo     // non-nil: note what a ready-packed answer needs
	logged bool          // this query is logged (sampled)
	busy   bool          // the listener is full: answer without waiting on an upstream
	report report.Report // what the cache and upstreams said about the public steps
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
