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
