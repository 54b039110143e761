package cache

import (
	"time"

	"github.com/miekg/dns"
)

// ednsSize is the UDP size advertised in the OPT record of stale answers (R7: 1232).
const ednsSize = 1232

// ttlFunc says what TTL a served copy of an RR shows, given the TTL stored.
type ttlFunc func(stored uint32) uint32

// countDown is the normal rule: the stored TTL minus the whole seconds elapsed since the
// entry was stored, never below 0.
func countDown(age time.Duration) ttlFunc {
	elapsed := uint32(min(age/time.Second, time.Duration(^uint32(0))))
	return func(stored uint32) uint32 {
		if stored <= elapsed {
			return 0
		}
		return stored - elapsed
	}
}

// fixed puts the same TTL on every RR, as stale answers must (RFC 8767 §4).
func fixed(ttl uint32) ttlFunc {
	return func(uint32) uint32 { return ttl }
}

// copyReply builds the caller's own copy of a kept message RR by RR, for the waiters of a
// reply that could not be packed (call.reply); otherwise as replyFrom. The three sections
// share one backing array (one allocation), each capped so an append by the caller cannot
// overwrite the next section.
func copyReply(stored, req *dns.Msg, ttl ttlFunc) *dns.Msg {
	m := &dns.Msg{MsgHdr: stored.MsgHdr}
	m.Id = req.Id
	m.Question = []dns.Question{req.Question[0]}
	na, nn, ne := len(stored.Answer), len(stored.Ns), len(stored.Extra)
	if na+nn+ne == 0 {
		return m
	}
	rrs := make([]dns.RR, na+nn+ne)
	copyWithTTL(rrs[:na], stored.Answer, ttl)
	copyWithTTL(rrs[na:na+nn], stored.Ns, ttl)
	copyWithTTL(rrs[na+nn:], stored.Extra, ttl)
	setSections(m, rrs, na, nn)
	return m
}

func copyWithTTL(dst, src []dns.RR, ttl ttlFunc) {
	for i, rr := range src {
		c := dns.Copy(rr)
		h := c.Header()
		h.Ttl = ttl(h.Ttl)
		dst[i] = c
	}
}

// staleReply answers from an expired entry: every TTL is StaleAnswerTTL and an OPT record
// carries the Extended DNS Error "Stale Answer" (RFC 8914 code 3, as SPEC R9 asks; a stale
// NXDOMAIN also carries code 19, "Stale NXDOMAIN Answer") for the caller to merge into its
// final reply.
func (c *Cache) staleReply(e *entry, req *dns.Msg) (*dns.Msg, error) {
	m, err := replyFrom(e.wire, req, fixed(seconds(c.opts.StaleAnswerTTL)))
	if err != nil {
		return nil, err
	}
	codes := []uint16{dns.ExtendedErrorCodeStaleAnswer}
	if m.Rcode == dns.RcodeNameError {
		codes = append(codes, dns.ExtendedErrorCodeStaleNXDOMAINAnswer)
	}
	do := false
	if opt := req.IsEdns0(); opt != nil {
		do = opt.Do()
	}
	m.SetEdns0(ednsSize, do)
	opt := m.IsEdns0()
	for _, code := range codes {
		opt.Option = append(opt.Option, &dns.EDNS0_EDE{InfoCode: code})
	}
	return m, nil
}

// setSections makes rrs m's three sections, the first na the answer and the next nn the
// authority, each capped so an append by the caller cannot overwrite the next; an empty
// section stays nil.
func setSections(m *dns.Msg, rrs []dns.RR, na, nn int) {
	if na > 0 {
		m.Answer = rrs[:na:na]
	}
	if nn > 0 {
		m.Ns = rrs[na : na+nn : na+nn]
	}
	if len(rrs) > na+nn {
		m.Extra = rrs[na+nn:]
	}
}
