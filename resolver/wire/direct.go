package wire

import "github.com/miekg/dns"

// MaybeDirect reports whether req is of the kinds a Handler's Direct takes
// (NOTIFY, UPDATE, and IN queries for AXFR, IXFR or SOA), so a listener
// builds Direct's arguments only for those.
func MaybeDirect(req *dns.Msg) bool {
	if req.Response {
		return false
	}
	switch req.Opcode {
	case dns.OpcodeNotify, dns.OpcodeUpdate:
		return true
	case dns.OpcodeQuery:
		if len(req.Question) != 1 || req.Question[0].Qclass != dns.ClassINET {
			return false
		}
		switch req.Question[0].Qtype {
		case dns.TypeAXFR, dns.TypeIXFR, dns.TypeSOA:
			return true
		}
	}
	return false
}
