package cache

import (
	"fmt"

	"github.com/miekg/dns"
)

// packed is m in the wire form an entry keeps, or nil when m must not be kept that way:
// miekg cannot pack it (an RR it cannot encode), or cannot read the bytes back. Such a
// reply is answered but not cached, so a later hit never meets bytes it cannot serve.
// It is not compressed: without the question most names appear once, and compressing
// costs a map per message on the miss path for a few bytes.
//
// Reading the bytes back costs one unpack per stored answer, on the miss path only; the
// alternative is a hit, a stale answer or a waiter that finds its stored answer unreadable
// and must somehow fall back to the upstream.
func packed(m *dns.Msg) []byte {
	if m == nil {
		return nil
	}
	wire, err := m.Pack()
	if err != nil {
		return nil
	}
	var probe dns.Msg
	if probe.Unpack(wire) != nil {
		return nil
	}
	return wire
}

// replyFrom builds the caller's own copy of a stored message from its wire form: the
// request's ID and question as asked (so the client's 0x20 case survives), TTLs per ttl
// (nil: as stored), no OPT record. Every RR is a fresh object, so the caller may change
// the reply freely. The error is for bytes packed can never have let through.
func replyFrom(wire []byte, req *dns.Msg, ttl ttlFunc) (*dns.Msg, error) {
	m := new(dns.Msg)
	if err := m.Unpack(wire); err != nil {
		q := req.Question[0]
		return nil, fmt.Errorf("cache: stored answer for %s %s unreadable: %w", q.Name, dns.TypeToString[q.Qtype], err)
	}
	m.Id = req.Id
	m.Question = []dns.Question{req.Question[0]}
	if ttl != nil {
		for _, section := range [...][]dns.RR{m.Answer, m.Ns, m.Extra} {
			for _, rr := range section {
				h := rr.Header()
				h.Ttl = ttl(h.Ttl)
			}
		}
	}
	return m, nil
}

// adopt makes the kept reply m the caller's own, as replyFrom would have built it with the
// TTLs as stored: m is handed to exactly one caller (call.reply), so nothing is copied.
func adopt(m, req *dns.Msg) *dns.Msg {
	m.Id = req.Id
	m.Question = []dns.Question{req.Question[0]}
	return m
}
