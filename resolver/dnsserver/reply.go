package dnsserver

import (
	"context"
	"errors"
	"strings"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/upstream"
)

// servfail is the reply when the resolver has no answer: SERVFAIL with the
// Extended DNS Errors the chain collected (a fallback's R8 text, a stale
// marker) and, when explaining, one saying why.
func servfail(r *dns.Msg, err error, explain bool) *dns.Msg {
	resp := errorReply(r, dns.RcodeServerFailure)
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	var ee *resolver.ExplainedError
	if errors.As(err, &ee) {
		// The walk only made them when server.explain allows.
		for i := range ee.EDE {
			opt.Option = append(opt.Option, &ee.EDE[i])
		}
	}
	if explain {
		opt.Option = append(opt.Option, servfailEDE(err))
	}
	if len(opt.Option) > 0 {
		resp.Extra = append(resp.Extra, opt) // merged with the client's EDNS by finish
	}
	return resp
}

// errInternal is the reason of a SERVFAIL that answers a panic.
var errInternal = errors.New("internal error")

// servfailEDE says why there is no answer (RFC 8914, R11) in general
// terms: never an address, port or TLS name of an upstream or forwarding
// target (explain and the logs keep those). 14 when privdns is too busy,
// 0 for a chain too long, 22 for upstreams that gave no usable answer.
func servfailEDE(err error) *dns.EDNS0_EDE {
	switch {
	case errors.Is(err, resolver.ErrChainLimit):
		return &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeOther, ExtraText: "privdns: CNAME chain longer than 11 or looping"}
	case errors.Is(err, resolver.ErrBusy) || errors.Is(err, cache.ErrNotCached) || errors.Is(err, upstream.ErrOverloaded):
		return &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNotReady, ExtraText: "privdns: too many queries in flight"}
	case errors.Is(err, upstream.ErrBudget):
		return &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeOther, ExtraText: "privdns: the query needed more upstream queries than server.limits.upstreamQueriesPerQuery allows"}
	case errors.Is(err, errInternal):
		return &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeOther, ExtraText: "privdns: internal error"}
	case errors.Is(err, resolver.ErrZoneUnavailable):
		return &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNoReachableAuthority, ExtraText: "privdns: the private zone has no data: its primaries have not answered"}
	case errors.Is(err, resolver.ErrNoUpstream):
		return &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNoReachableAuthority, ExtraText: "privdns: no upstream configured"}
	case errors.Is(err, upstream.ErrAllDown):
		return &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNoReachableAuthority, ExtraText: "privdns: every upstream server is down"}
	case errors.Is(err, context.DeadlineExceeded):
		return &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNoReachableAuthority, ExtraText: "privdns: no upstream server answered in time"}
	}
	return &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNoReachableAuthority, ExtraText: "privdns: no usable answer from the upstream servers"}
}

// chaos answers CHAOS id.server and hostname.bind with the identity; other
// CHAOS names (version.bind among them) are refused.
func chaos(r *dns.Msg, identity string) *dns.Msg {
	qs := r.Question[0]
	name := strings.ToLower(qs.Name)
	if identity == "" || qs.Qtype != dns.TypeTXT || (name != "id.server." && name != "hostname.bind.") {
		return errorReply(r, dns.RcodeRefused)
	}
	resp := new(dns.Msg)
	resp.SetReply(r)
	resp.Answer = []dns.RR{&dns.TXT{
		Hdr: dns.RR_Header{Name: qs.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS},
		Txt: []string{identity},
	}}
	return resp
}

func errorReply(r *dns.Msg, rcode int) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetRcode(r, rcode)
	if rcode == dns.RcodeFormatError && len(r.Question) != 1 {
		resp.Question = nil
	}
	return resp
}

func countOPT(extra []dns.RR) int {
	n := 0
	for _, rr := range extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			n++
		}
	}
	return n
}

func questionString(r *dns.Msg) string {
	if len(r.Question) == 0 {
		return ""
	}
	q := r.Question[0]
	return q.Name + " " + dns.Class(q.Qclass).String() + " " + dns.Type(q.Qtype).String()
}
