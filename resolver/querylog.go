package resolver

import (
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/cache"
)

// logQuery writes the query log line: who asked what, and how it was
// answered: the path, the public route (upstreams or ruleset/domain) and
// the upstream server that answered ("" when none was asked: private or
// from cache).
func (h *Handler) logQuery(q *Query, resp *dns.Msg, d time.Duration) {
	path := q.Path
	if path == "public" {
		switch q.cache {
		case cache.Hit:
			path = "cache"
		case cache.Stale:
			path = "stale"
		}
	}
	if path == "" {
		path = "local" // refused, CHAOS, FORMERR …: answered without resolving
	}
	qs := q.Msg.Question
	name, qtype := "", ""
	if len(qs) == 1 {
		name, qtype = qs[0].Name, dns.Type(qs[0].Qtype).String()
	}
	h.log.Info("query", "client", q.Client, "proto", q.Proto, "network", q.Network, "name", name, "type", qtype,
		"rcode", dns.RcodeToString[resp.Rcode], "path", path, "route", q.Route, "upstream", q.answerer, "duration", d)
}
