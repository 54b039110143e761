package wire

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// Request bits that shape a reply, as Question.Bits holds them.
const (
	BitCD   uint8 = 1 << iota // checking disabled
	BitDO                     // DNSSEC OK
	BitEDNS                   // an OPT record was sent
	BitNSID                   // NSID was asked for
)

// Question is what the fast path reads of a plain query.
type Question struct {
	// Name is the question name in wire form, in the case asked. It is
	// the caller's buffer, handed to ParseQuestion, not a copy.
	Name    []byte
	Type    uint16
	Class   uint16
	Bits    uint8 // BitCD, BitDO, BitEDNS, BitNSID
	NameEnd int   // offset in the packet just past the question name
	MaxSize int   // the largest UDP reply the client takes
}

// ParseQuestion reads a plain query: opcode QUERY, one question, no
// answer or authority records, at most an OPT record of version 0 with
// only NSID, cookie and padding options. It appends the question name to
// name[:0] (give it room for 255 bytes and nothing is allocated). ok is
// false for anything else, which the full path must take.
func ParseQuestion(pkt []byte, name []byte) (q Question, ok bool) {
	if len(pkt) < 12 || pkt[2]&0xF8 != 0 || // QR, opcode
		binary.BigEndian.Uint16(pkt[4:]) != 1 || binary.BigEndian.Uint16(pkt[6:]) != 0 ||
		binary.BigEndian.Uint16(pkt[8:]) != 0 || binary.BigEndian.Uint16(pkt[10:]) > 1 {
		return q, false
	}
	name = name[:0]
	off := 12
	for {
		if off >= len(pkt) {
			return q, false
		}
		l := int(pkt[off])
		if l&0xC0 != 0 || off+1+l > len(pkt) || len(name)+l+1 > 255 {
			return q, false // compressed (never in a question) or too long
		}
		name = append(name, pkt[off:off+1+l]...)
		off += 1 + l
		if l == 0 {
			break
		}
	}
	if off+4 > len(pkt) {
		return q, false
	}
	q.Name = name
	q.NameEnd = off
	q.Type = binary.BigEndian.Uint16(pkt[off:])
	q.Class = binary.BigEndian.Uint16(pkt[off+2:])
	if pkt[3]&0x10 != 0 {
		q.Bits |= BitCD
	}
	q.MaxSize = dns.MinMsgSize
	off += 4
	if binary.BigEndian.Uint16(pkt[10:]) == 1 {
		return q, parseOPT(pkt[off:], &q)
	}
	return q, off == len(pkt)
}

// parseOPT reads the OPT record that must fill b exactly: root owner,
// version 0, and only options that do not change the reply beyond NSID.
func parseOPT(b []byte, q *Question) bool {
	if len(b) < 11 || b[0] != 0 || binary.BigEndian.Uint16(b[1:]) != dns.TypeOPT || b[6] != 0 {
		return false // not an OPT, or EDNS version ≠ 0 (BADVERS)
	}
	q.Bits |= BitEDNS
	q.MaxSize = max(int(binary.BigEndian.Uint16(b[3:])), dns.MinMsgSize)
	if b[7]&0x80 != 0 {
		q.Bits |= BitDO
	}
	rdlen := int(binary.BigEndian.Uint16(b[9:]))
	opts := b[11:]
	if len(opts) != rdlen {
		return false
	}
	for len(opts) >= 4 {
		code, n := binary.BigEndian.Uint16(opts), int(binary.BigEndian.Uint16(opts[2:]))
		if 4+n > len(opts) {
			return false
		}
		switch code {
		case dns.EDNS0NSID:
			q.Bits |= BitNSID
		case dns.EDNS0COOKIE, dns.EDNS0PADDING:
		default:
			return false // others may be malformed (FORMERR) or change the reply
		}
		opts = opts[4+n:]
	}
	return len(opts) == 0
}
