package dnsserver

import (
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// logQuery writes the query log line: who asked what, and how it was
// answered: the path, the public route (upstreams or ruleset/domain) and
// the upstream server that answered ("" when none was asked: private or
// from cache).
func (h *Handler) logQuery(rq *request, resp *dns.Msg, d time.Duration) {
	q := &rq.q
	path := q.Path
	if path == "public" {
		switch rq.rep.Cache {
		case report.Hit:
			path = "cache"
		case report.Stale:
			path = "stale"
		}
	}
	if path == "" {
		path = "local" // refused, CHAOS, FORMERR …: answered without resolving
	}
	qs := q.Msg.Question
	name, qtype := "", uint16(0)
	if len(qs) == 1 {
		name, qtype = qs[0].Name, qs[0].Qtype
	}
	h.logLine(q.Client, q.Proto, q.Network, name, qtype, resp.Rcode, path, q.Route, rq.rep.Answerer, d)
}

func (h *Handler) logLine(client netip.Addr, proto, network, name string, qtype uint16, rcode int, path, route, upstream string, d time.Duration) {
	h.log.Info("query", "client", client, "proto", proto, "network", network, "name", name, "type", dns.Type(qtype).String(),
		"rcode", dns.RcodeToString[rcode], "path", path, "route", route, "upstream", upstream, "duration", d)
}
