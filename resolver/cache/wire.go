package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/miekg/dns"

	privwire "github.com/privdns/privdns/resolver/wire"
)

// packed is m in the wire form an entry keeps, or nil when m must not be kept that way:
// miekg cannot pack it (an RR it cannot encode), or the bytes do not read back. Such a
// reply is answered but not cached, so a later hit never meets bytes it cannot serve.
// It is not compressed: without the question most names appear once, and compressing
// costs a map per message on the miss path for a few bytes.
//
// Reading the bytes back costs one unpack per stored answer (none for plain answers, see
// plainAnswer), on the miss path only; the
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
	if plainAnswer(wire) {
		return wire // read back as unpack would, without making the records
	}
	if _, err := unpack(wire, nil, ""); err != nil {
		return nil
	}
	return wire
}

// plainAnswer reports whether wire, a message without a question, holds only the records
// unpack reads itself (A, AAAA and CNAME, the bulk of what is cached) and reads back as
// unpack would read it: names whole and uncompressed, each record within the message, the
// A and AAAA rdata of address length, a CNAME's rdata one name, nothing after the last
// record. Then the read-back costs no allocation; anything else is read back in full.
func plainAnswer(wire []byte) bool {
	if len(wire) < headerLen || binary.BigEndian.Uint16(wire[4:]) != 0 {
		return false
	}
	n := int(binary.BigEndian.Uint16(wire[6:])) + int(binary.BigEndian.Uint16(wire[8:])) + int(binary.BigEndian.Uint16(wire[10:]))
	off := headerLen
	for range n {
		end, ok := plainName(wire, off)
		if !ok || end+10 > len(wire) {
			return false
		}
		rrtype := binary.BigEndian.Uint16(wire[end:])
		rdlen := int(binary.BigEndian.Uint16(wire[end+8:]))
		off = end + 10
		if off+rdlen > len(wire) {
			return false
		}
		switch rrtype {
		case dns.TypeA:
			ok = rdlen == net.IPv4len
		case dns.TypeAAAA:
			ok = rdlen == net.IPv6len
		case dns.TypeCNAME:
			nameEnd, named := plainName(wire[:off+rdlen], off)
			ok = named && nameEnd == off+rdlen
		default:
			ok = false
		}
		if !ok {
			return false
		}
		off += rdlen
	}
	return off == len(wire)
}

// plainName reports whether an uncompressed domain name of at most 255 bytes, in labels
// of at most 63, starts at wire[off:], and where it ends.
func plainName(wire []byte, off int) (int, bool) {
	start := off
	for off < len(wire) {
		l := int(wire[off])
		off++
		switch {
		case l == 0:
			return off, off-start <= 255
		case l > 63 || off+l > len(wire):
			return 0, false // a pointer, a reserved label type, or cut short
		}
		off += l
	}
	return 0, false
}

// replyFrom builds the caller's own copy of a stored message from its wire form: the
// request's ID and question as asked (so the client's 0x20 case survives), TTLs per ttl
// (nil: as stored), no OPT record. Every RR is a fresh object, so the caller may change
// the reply freely; the three sections share one backing array, each capped so an append
// by the caller cannot overwrite the next. The error is for bytes packed never lets through.
func replyFrom(wire []byte, req *dns.Msg, ttl ttlFunc) (*dns.Msg, error) {
	q := req.Question[0]
	m, err := unpack(wire, ttl, q.Name)
	if err != nil {
		return nil, fmt.Errorf("cache: stored answer for %s %s unreadable: %w", q.Name, dns.TypeToString[q.Qtype], err)
	}
	m.Id = req.Id
	m.Question[0] = q
	return m, nil
}

// unpack reads a message packed by packed, with a question to fill in. It does what
// dns.Msg.Unpack does but allocates less on the hit path: A, AAAA and CNAME records are
// built here, and a name that spells qname or a name made before it in this message
// exactly (names) is that string, not a new one; any other record goes through miekg's
// own dns.UnpackRRWithHeader.
func unpack(wire []byte, ttl ttlFunc, qname string) (*dns.Msg, error) {
	m := privwire.MsgWithQuestion(dns.Question{})
	if len(wire) < headerLen {
		return nil, dns.ErrBuf
	}
	privwire.SetHeader(m, wire)
	if binary.BigEndian.Uint16(wire[4:]) != 0 {
		return nil, errors.New("stored message has a question")
	}
	na := int(binary.BigEndian.Uint16(wire[6:]))
	nn := int(binary.BigEndian.Uint16(wire[8:]))
	ne := int(binary.BigEndian.Uint16(wire[10:]))
	if na+nn+ne == 0 {
		return m, nil
	}
	rrs := make([]dns.RR, na+nn+ne)
	off := headerLen
	seen := names{qname}
	for i := range rrs {
		var err error
		if rrs[i], off, err = unpackRR(wire, off, ttl, &seen); err != nil {
			return nil, err
		}
	}
	if off != len(wire) {
		return nil, errors.New("stored message has trailing bytes")
	}
	setSections(m, rrs, na, nn)
	return m, nil
}

const headerLen = 12 // of a DNS message

// names are the names one unpack has made so far, the question's first: a
// CNAME chain names each target again as the next record's owner, and
// records of one RRset share their owner, so such names are made once.
type names [4]string

// known returns the name at wire[off:] if it spells one of n, and where it
// ends.
func (n *names) known(wire []byte, off int) (string, int, bool) {
	for _, name := range n {
		if name == "" {
			break
		}
		if end, ok := spells(wire, off, name); ok {
			return name, end, true
		}
	}
	return "", 0, false
}

// add remembers name, the oldest giving way once n is full (the question
// stays).
func (n *names) add(name string) {
	for i := 1; i < len(n); i++ {
		if n[i] == "" || n[i] == name {
			n[i] = name
			return
		}
	}
	copy(n[1:], n[2:])
	n[len(n)-1] = name
}

// name reads the domain name at wire[off:], reusing one of seen's.
func name(wire []byte, off int, seen *names) (string, int, error) {
	if s, end, ok := seen.known(wire, off); ok {
		return s, end, nil
	}
	s, end, err := dns.UnpackDomainName(wire, off)
	if err == nil {
		seen.add(s)
	}
	return s, end, err
}

func unpackRR(wire []byte, off int, ttl ttlFunc, seen *names) (dns.RR, int, error) {
	var h dns.RR_Header
	var err error
	if h.Name, off, err = name(wire, off, seen); err != nil {
		return nil, 0, err
	}
	off, end, ok := privwire.RRFields(&h, wire, off)
	if !ok {
		return nil, 0, dns.ErrBuf
	}
	if ttl != nil {
		h.Ttl = ttl(h.Ttl)
	}
	switch {
	case h.Rrtype == dns.TypeA && h.Rdlength == net.IPv4len:
		return privwire.A(h, wire[off:end]), end, nil
	case h.Rrtype == dns.TypeAAAA && h.Rdlength == net.IPv6len:
		return privwire.AAAA(h, wire[off:end]), end, nil
	case h.Rrtype == dns.TypeCNAME && h.Rdlength > 0:
		// As miekg reads it (the target, to the record's end), with the
		// target remembered: the next record is usually its owner.
		target, tend, err := name(wire[:end], off, seen)
		if err == nil && tend == end {
			return &dns.CNAME{Hdr: h, Target: target}, end, nil
		}
	}
	// Cut at the record's end, as dns.UnpackRR does: some record types read to the end.
	return dns.UnpackRRWithHeader(h, wire[:end], off)
}

// spells reports whether the uncompressed name at wire[off:] is name byte for byte, in
// characters miekg writes unescaped (so dns.UnpackDomainName would return name itself),
// and where it ends.
func spells(wire []byte, off int, name string) (int, bool) {
	if name == "" || name == "." {
		return 0, false // the root is rare as an owner; "" matches nothing
	}
	i := 0
	for {
		if off >= len(wire) {
			return 0, false
		}
		n := int(wire[off])
		off++
		if n == 0 {
			return off, i == len(name)
		}
		if n > 63 || off+n > len(wire) || i+n >= len(name) || name[i+n] != '.' {
			return 0, false // a pointer, a long label, or another name
		}
		for _, b := range wire[off : off+n] {
			if b != name[i] || !privwire.Plain(b) {
				return 0, false
			}
			i++
		}
		i++ // the dot
		off += n
	}
}

// adopt makes the kept reply m the caller's own, as replyFrom would have built it with the
// TTLs as stored: m is handed to exactly one caller (call.reply), so nothing is copied.
func adopt(m, req *dns.Msg) *dns.Msg {
	m.Id = req.Id
	m.Question = []dns.Question{req.Question[0]}
	return m
}
