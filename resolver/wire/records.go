package wire

import (
	"encoding/binary"
	"net"

	"github.com/miekg/dns"
)

// The records and messages the own decoders (the cache's stored answers,
// the upstream's replies) make most: each in one allocation.

type msgWithQuestion struct {
	dns.Msg
	q [1]dns.Question
}

// MsgWithQuestion returns a new message whose Question is q, the message
// and its question one object.
func MsgWithQuestion(q dns.Question) *dns.Msg {
	w := &msgWithQuestion{q: [1]dns.Question{q}}
	w.Msg.Question = w.q[:]
	return &w.Msg
}

type aWithIP struct {
	dns.A
	ip [net.IPv4len]byte
}

type aaaaWithIP struct {
	dns.AAAA
	ip [net.IPv6len]byte
}

// A returns an A record of h whose address, the 4 bytes ip, is kept in the
// record's own object.
func A(h dns.RR_Header, ip []byte) *dns.A {
	rr := &aWithIP{A: dns.A{Hdr: h}}
	copy(rr.ip[:], ip)
	rr.A.A = rr.ip[:]
	return &rr.A
}

// AAAA returns an AAAA record of h whose address, the 16 bytes ip, is kept
// in the record's own object.
func AAAA(h dns.RR_Header, ip []byte) *dns.AAAA {
	rr := &aaaaWithIP{AAAA: dns.AAAA{Hdr: h}}
	copy(rr.ip[:], ip)
	rr.AAAA.AAAA = rr.ip[:]
	return &rr.AAAA
}

// Plain reports whether miekg writes b in a name as itself, without an
// escape: a name of plain bytes unpacks to the same bytes.
func Plain(b byte) bool {
	switch b {
	case '.', ' ', '\'', '@', ';', '(', ')', '"', '\\':
		return false
	}
	return ' ' <= b && b <= '~'
}

// SetHeader sets m's header fields (not the counts) from the packed header
// at p[:12], as dns.Msg.Unpack does.
func SetHeader(m *dns.Msg, p []byte) {
	bits := binary.BigEndian.Uint16(p[2:])
	m.Id = binary.BigEndian.Uint16(p)
	m.Response = bits&(1<<15) != 0
	m.Opcode = int(bits>>11) & 0xF
	m.Authoritative = bits&(1<<10) != 0
	m.Truncated = bits&(1<<9) != 0
	m.RecursionDesired = bits&(1<<8) != 0
	m.RecursionAvailable = bits&(1<<7) != 0
	m.Zero = bits&(1<<6) != 0
	m.AuthenticatedData = bits&(1<<5) != 0
	m.CheckingDisabled = bits&(1<<4) != 0
	m.Rcode = int(bits & 0xF)
}

// RRFields reads the type, class, TTL and RDLENGTH of the record whose
// owner name ends at p[off:] into h, and returns where its data starts and
// ends; ok is false when the record does not fit in p.
func RRFields(h *dns.RR_Header, p []byte, off int) (data, end int, ok bool) {
	if off+10 > len(p) {
		return 0, 0, false
	}
	h.Rrtype = binary.BigEndian.Uint16(p[off:])
	h.Class = binary.BigEndian.Uint16(p[off+2:])
	h.Ttl = binary.BigEndian.Uint32(p[off+4:])
	h.Rdlength = binary.BigEndian.Uint16(p[off+8:])
	data = off + 10
	end = data + int(h.Rdlength)
	return data, end, end <= len(p)
}
