package dnsserver

import (
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// finish shapes resp for the client: RA set, AA clear, EDNS answered in
// kind, truncated to the client's UDP size with TC (R7); then counts and
// logs the query, before the response leaves.
func (h *Handler) finish(rq *request, resp *dns.Msg) *dns.Msg {
	if resp == nil {
		return nil
	}
	r := rq.q.Msg
	resp.Id = r.Id
	resp.Response = true
	// RA, AD and CD are defined for QUERY only (R7, R11).
	resp.RecursionAvailable = r.Opcode == dns.OpcodeQuery
	resp.Authoritative = false
	resp.RecursionDesired = r.RecursionDesired
	resp.CheckingDisabled = r.CheckingDisabled && r.Opcode == dns.OpcodeQuery
	if r.Opcode != dns.OpcodeQuery {
		resp.AuthenticatedData = false
	}
	if resp.Rcode != dns.RcodeFormatError || len(r.Question) == 1 {
		resp.Question = r.Question // echoed exactly as asked
	}
	if len(r.Question) == 1 {
		resp.Answer = spelledAsAsked(resp.Answer, r.Question[0].Name)
	}
	size := edns(r, resp, rq.set.Identity)
	if rq.q.Proto != "udp" {
		size = dns.MaxMsgSize // a TCP message's length is 16 bits
	}
	resp.Compress = true
	fit(resp, size)
	d := time.Since(rq.start)
	// Answered before resolution (FORMERR, CHAOS, …): still counted under
	// the client's network.
	h.networkOf(rq)
	if h.opts.Observer != nil {
		h.opts.Observer.Request(rq.q.Network, rq.q.Proto, questionType(r), resp.Rcode, d)
	}
	if rq.logged {
		h.logQuery(rq, resp, d)
	}
	return resp
}

// spelledAsAsked returns answer with the records owned by the query name
// spelt as the client spelt it (as Unbound and BIND answer), so that
// compression points them at the question whatever the case: a query in
// mixed case (a resolver's 0x20) gets the same size of reply. The records
// changed are copies; answer is not modified.
func spelledAsAsked(answer []dns.RR, qname string) []dns.RR {
	var out []dns.RR
	for i, rr := range answer {
		owner := rr.Header().Name
		if owner == qname || !strings.EqualFold(owner, qname) {
			continue
		}
		if out == nil {
			out = slices.Clone(answer)
		}
		c := dns.Copy(rr)
		c.Header().Name = qname
		out[i] = c
	}
	if out == nil {
		return answer
	}
	return out
}

// edns replaces any OPT in resp by one answering the client's: our UDP
// size, the client's DO bit, the resolver's Extended DNS Errors and NSID
// when asked. A client without EDNS gets no OPT (and no extended rcode).
// It returns the largest UDP response the client accepts.
func edns(r, resp *dns.Msg, identity string) int {
	var edes []dns.EDNS0
	extra := resp.Extra[:0:0]
	for _, rr := range resp.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			for _, o := range opt.Option {
				if o.Option() == dns.EDNS0EDE {
					edes = append(edes, o)
				}
			}
			continue
		}
		extra = append(extra, rr)
	}
	resp.Extra = extra
	ropt := r.IsEdns0()
	if ropt == nil {
		if resp.Rcode > 0xF {
			resp.Rcode = dns.RcodeServerFailure
		}
		return dns.MinMsgSize
	}
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	opt.SetUDPSize(UDPSize)
	opt.SetDo(ropt.Do())
	opt.Option = edes
	if identity != "" && hasOption(ropt, dns.EDNS0NSID) {
		opt.Option = append(opt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: hexString(identity)})
	}
	resp.Extra = append(resp.Extra, opt)
	// R7: truncate what is larger than the client's UDP size (never
	// below 512), not what is larger than ours.
	return max(int(ropt.UDPSize()), dns.MinMsgSize)
}

// fit makes resp at most size bytes: records that do not fit go and TC is
// set (R7). When the EDNS options alone are too many (a long name's EDE
// text in a 512-byte reply), they go too.
func fit(resp *dns.Msg, size int) {
	resp.Truncate(size)
	if resp.Len() <= size {
		return
	}
	resp.Answer, resp.Ns = nil, nil
	extra := resp.Extra[:0]
	for _, rr := range resp.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			opt.Option = nil
			extra = append(extra, opt)
		}
	}
	resp.Extra = extra
	resp.Truncated = true
}

func hasOption(opt *dns.OPT, code uint16) bool {
	for _, o := range opt.Option {
		if o.Option() == code {
			return true
		}
	}
	return false
}

func hexString(s string) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, digits[s[i]>>4], digits[s[i]&0xF])
	}
	return string(b)
}

func questionType(r *dns.Msg) uint16 {
	if len(r.Question) == 0 {
		return 0
	}
	return r.Question[0].Qtype
}
