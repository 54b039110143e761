package resolver

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// The wire side of ready-packed answers: reading a plain query without
// unpacking it, and finding the TTL fields of a packed reply.

// parsedQuery is what the packed path reads of a request without unpacking it.
type parsedQuery struct {
	key     answerKey
	nameEnd int // offset just past the question name
	maxSize int // the largest UDP reply the client takes
}

// parseQuery reads a plain query: opcode QUERY, one question, at most an
// OPT record of version 0. Anything else takes the full path.
func parseQuery(pkt []byte, name []byte) (parsedQuery, bool) {
	var q parsedQuery
	if len(pkt) < 12 || pkt[2]&0xF8 != 0 || // QR, opcode
		binary.BigEndian.Uint16(pkt[4:]) != 1 || binary.BigEndian.Uint16(pkt[6:]) != 0 ||
		binary.BigEndian.Uint16(pkt[8:]) != 0 || binary.BigEndian.Uint16(pkt[10:]) > 1 {
		return q, false
	}
	off := 12
	for {
		if off >= len(pkt) {
			return q, false
		}
		l := int(pkt[off])
		if l&0xC0 != 0 || off+1+l > len(pkt) || len(name)+l+1 > 255 {
			return q, false
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
	q.nameEnd = off
	q.key.name = string(name)
	q.key.qtype = binary.BigEndian.Uint16(pkt[off:])
	q.key.qclass = binary.BigEndian.Uint16(pkt[off+2:])
	if pkt[3]&0x10 != 0 {
		q.key.bits |= bitCD
	}
	q.maxSize = dns.MinMsgSize
	off += 4
	if binary.BigEndian.Uint16(pkt[10:]) == 1 {
		ok := parseOPT(pkt[off:], &q)
		return q, ok
	}
	return q, off == len(pkt)
}

// parseOPT reads the request's OPT record: root owner, type OPT, version 0.
func parseOPT(b []byte, q *parsedQuery) bool {
	if len(b) < 11 || b[0] != 0 || binary.BigEndian.Uint16(b[1:]) != dns.TypeOPT || b[6] != 0 {
		return false // not an OPT, or EDNS version ≠ 0 (BADVERS)
	}
	q.key.bits |= bitEDNS
	q.maxSize = max(int(binary.BigEndian.Uint16(b[3:])), dns.MinMsgSize)
	if b[7]&0x80 != 0 {
		q.key.bits |= bitDO
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
			q.key.bits |= bitNSID
		case dns.EDNS0COOKIE, dns.EDNS0PADDING:
			// Neither is answered, and neither can fail to parse.
		default:
			return false // others may be malformed (FORMERR) or change the reply
		}
		opts = opts[4+n:]
	}
	return len(opts) == 0
}

// ttlOffsets returns the offsets of the TTL fields of the first count
// records after the question of a packed message.
func ttlOffsets(wire []byte, count int) ([]int, bool) {
	off, ok := skipName(wire, 12)
	if !ok {
		return nil, false
	}
	off += 4
	offs := make([]int, 0, count)
	for range count {
		if off, ok = skipName(wire, off); !ok || off+10 > len(wire) {
			return nil, false
		}
		offs = append(offs, off+4)
		off += 10 + int(binary.BigEndian.Uint16(wire[off+8:]))
	}
	return offs, off <= len(wire)
}

func skipName(wire []byte, off int) (int, bool) {
	for off < len(wire) {
		l := int(wire[off])
		switch {
		case l&0xC0 == 0xC0:
			return off + 2, off+2 <= len(wire)
		case l == 0:
			return off + 1, true
		}
		off += 1 + l
	}
	return 0, false
}
