package wire

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// Header bits used below.
const (
	qrBit = 1 << 15
	rdBit = 1 << 8
)

// Accept lets every request through and drops responses before they are
// parsed: the server answers NOTIMP and FORMERR itself with the response
// shape of R7 (miekg's default rejects them with RA clear, and accepts
// NOTIFY). It is a dns.MsgAcceptFunc.
func Accept(dh dns.Header) dns.MsgAcceptAction {
	if dh.Bits&qrBit != 0 {
		return dns.MsgIgnore
	}
	return dns.MsgAccept
}

// Header reads the header of a packet and says whether it is to be
// answered: not a runt, not a response (Accept).
func Header(pkt []byte) (dns.Header, bool) {
	if len(pkt) < 12 {
		return dns.Header{}, false
	}
	dh := dns.Header{
		Id:      binary.BigEndian.Uint16(pkt),
		Bits:    binary.BigEndian.Uint16(pkt[2:]),
		Qdcount: binary.BigEndian.Uint16(pkt[4:]),
	}
	return dh, Accept(dh) == dns.MsgAccept
}

// HeaderReply answers a packet known only by its header: its ID, opcode
// and RD bit, the rcode, and no sections. RA is left to the caller, which
// sets it for QUERY only (R7, R11).
func HeaderReply(dh dns.Header, rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.Id = dh.Id
	m.Response = true
	m.Opcode = int(dh.Bits>>11) & 0xF
	m.RecursionDesired = dh.Bits&rdBit != 0
	m.Rcode = rcode
	return m
}

// TruncatedReply writes into out the reply that sends a client to TCP
// (R11 rate limiting's slip): pkt's ID, opcode, RD bit and question, QR
// and TC set, RA for QUERY, NOERROR and no records. It returns the reply's
// length, 0 when pkt is no request or out is too short. A question that
// cannot be read is left out.
func TruncatedReply(pkt, out []byte) int {
	if _, ok := Header(pkt); !ok {
		return 0
	}
	n, qd := 12, uint16(0)
	if binary.BigEndian.Uint16(pkt[4:]) == 1 {
		if end, ok := SkipName(pkt, 12); ok && end+4 <= len(pkt) {
			n, qd = end+4, 1
		}
	}
	if len(out) < n {
		return 0
	}
	copy(out, pkt[:n])
	const qr, opcode, rd, tc, ra = 0x80, 0x78, 0x01, 0x02, 0x80
	out[2] = qr | pkt[2]&(opcode|rd) | tc
	out[3] = 0
	if pkt[2]&opcode == 0 {
		out[3] = ra // RA is for QUERY only (R11)
	}
	binary.BigEndian.PutUint16(out[4:], qd)
	clear(out[6:12])
	return n
}
