package upstream

import (
	"encoding/binary"
	"net"
	"strings"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/wire"
)

// Unpacking a reply with dns.Msg.Unpack costs about ten allocations: the
// message, the question and its name, a slice per section, and each record
// with its owner name and its address. Most replies are one question and a
// few A, AAAA or CNAME records whose names point back into the question, so
// quickReply reads those itself: the message and its question in one object,
// one slice for all records, the question's name (the one the query was
// sent with) reused for every name that points to it or one of its
// suffixes, and each address kept in its record's object. Anything it does
// not know for certain it reads the way miekg does (a record type, a name
// with an escape, a pointer elsewhere), or it gives up and parseReply
// unpacks the whole reply with miekg: FuzzQuickReply holds the two to the
// same result.

// quickReply reads p, a reply whose ID has been checked, if it answers q
// (QR set, one question spelled exactly as q's, same type and class) and is
// of the shape it reads (see above). ok is false when it cannot tell:
// the caller unpacks p in full then, which also decides the replies it
// would reject.
func quickReply(p []byte, q dns.Question) (m *dns.Msg, ok bool) {
	if len(p) < headerLen || p[2]&0x80 == 0 || binary.BigEndian.Uint16(p[4:]) != 1 {
		return nil, false
	}
	var names knownNames
	off, ok := names.question(p, q.Name)
	if !ok || off+4 > len(p) ||
		binary.BigEndian.Uint16(p[off:]) != q.Qtype || binary.BigEndian.Uint16(p[off+2:]) != q.Qclass {
		return nil, false
	}
	off += 4
	na := int(binary.BigEndian.Uint16(p[6:]))
	nn := int(binary.BigEndian.Uint16(p[8:]))
	ne := int(binary.BigEndian.Uint16(p[10:]))
	if (na+nn+ne)*minRRLen > len(p)-off {
		return nil, false // the counts lie: miekg's way with that is its own
	}
	m = wire.MsgWithQuestion(q)
	wire.SetHeader(m, p)
	if na+nn+ne == 0 {
		return m, true
	}
	rrs := make([]dns.RR, na+nn+ne)
	for i := range rrs {
		if rrs[i], off, ok = quickRR(p, off, &names); !ok {
			return nil, false
		}
	}
	if na > 0 {
		m.Answer = rrs[:na:na]
	}
	if nn > 0 {
		m.Ns = rrs[na : na+nn : na+nn]
	}
	if ne > 0 {
		m.Extra = rrs[na+nn:]
	}
	if opt := m.IsEdns0(); opt != nil {
		m.Rcode |= opt.ExtendedRcode() // as dns.Msg.Unpack does
	}
	return m, true
}

const (
	headerLen = 12 // of a DNS message
	minRRLen  = 11 // a record with the root as its owner and no data
)

// quickRR reads the record at p[off:].
func quickRR(p []byte, off int, names *knownNames) (dns.RR, int, bool) {
	var h dns.RR_Header
	var ok bool
	if h.Name, off, ok = names.read(p, off); !ok {
		return nil, 0, false
	}
	off, end, ok := wire.RRFields(&h, p, off)
	if !ok {
		return nil, 0, false
	}
	switch {
	case h.Rrtype == dns.TypeA && h.Rdlength == net.IPv4len:
		return wire.A(h, p[off:end]), end, true
	case h.Rrtype == dns.TypeAAAA && h.Rdlength == net.IPv6len:
		return wire.AAAA(h, p[off:end]), end, true
	case h.Rrtype == dns.TypeCNAME && h.Rdlength > 0:
		// Read within the record, as miekg does (a pointer may not
		// leave it), and to its end.
		if target, tend, ok := names.read(p[:end], off); ok && tend == end {
			return &dns.CNAME{Hdr: h, Target: target}, end, true
		}
	}
	// Any other record as dns.UnpackRR reads it: cut at its end, since
	// some types read to the end.
	rr, next, err := dns.UnpackRRWithHeader(h, p[:end], off)
	if err != nil || next != end {
		return nil, 0, false
	}
	return rr, next, true
}

// knownNames are names read so far from one reply, with where each starts:
// a pointer to one of those offsets spells that name. The question's name
// and each of its suffixes come first, then the owner names and CNAME
// targets read by read, while there is room.
type knownNames struct {
	n     int
	names [16]knownName
}

type knownName struct {
	off  int    // where the name starts in the message
	name string // as miekg would unpack it
	wire int    // its length on the wire, pointers followed
}

// question reads the uncompressed question name at p[12:], which must spell
// name exactly in characters miekg writes as themselves, so the reply's
// question can be the query's own. It notes name and each of its suffixes,
// and returns where the name ends.
func (k *knownNames) question(p []byte, name string) (int, bool) {
	if name == "" || name[len(name)-1] != '.' || len(name) > 254 {
		return 0, false
	}
	off, i := headerLen, 0
	if name == "." {
		if off < len(p) && p[off] == 0 {
			k.add(off, name, 1)
			return off + 1, true
		}
		return 0, false
	}
	for {
		if off >= len(p) {
			return 0, false
		}
		n := int(p[off])
		if n == 0 {
			if i != len(name) {
				return 0, false
			}
			return off + 1, true
		}
		if n > 63 || off+1+n > len(p) || i+n >= len(name) || name[i+n] != '.' {
			return 0, false // a pointer, a long label, or another name
		}
		for j, b := range p[off+1 : off+1+n] {
			if b != name[i+j] || !wire.Plain(b) {
				return 0, false
			}
		}
		k.add(off, name[i:], len(name)-i+1)
		i += n + 1
		off += 1 + n
	}
}

// read returns the name at p[off:] and where it ends. A name that is a
// known one, or labels ending in a pointer to a known one, costs at most
// the new string; anything else is read by miekg's dns.UnpackDomainName.
func (k *knownNames) read(p []byte, off int) (string, int, bool) {
	start, wire := off, 0
scan:
	for off < len(p) {
		c := int(p[off])
		switch {
		case c == 0:
			if off == start || wire+1 > maxWire {
				break scan // the root (rare as an owner), or too long: miekg's
			}
			name := dotted(p[start:off], "")
			k.add(start, name, wire+1)
			return name, off + 1, true
		case c&0xC0 == 0xC0:
			if off+2 > len(p) {
				break scan
			}
			known, ok := k.at(int(binary.BigEndian.Uint16(p[off:]) & 0x3FFF))
			if !ok || wire+known.wire > maxWire {
				break scan
			}
			if off == start {
				return known.name, off + 2, true
			}
			name := dotted(p[start:off], known.name)
			k.add(start, name, wire+known.wire)
			return name, off + 2, true
		case c <= 63 && off+1+c <= len(p) && plainLabel(p[off+1:off+1+c]):
			wire += 1 + c
			off += 1 + c
		default:
			break scan
		}
	}
	name, end, err := dns.UnpackDomainName(p, start)
	return name, end, err == nil
}

// maxWire is the longest name read here without miekg, pointers followed:
// short enough of the 255 octets a name may take (RFC 1035 §2.3.4) that
// miekg's own count cannot differ.
const maxWire = 250

func (k *knownNames) add(off int, name string, wire int) {
	if k.n < len(k.names) {
		k.names[k.n] = knownName{off, name, wire}
		k.n++
	}
}

func (k *knownNames) at(off int) (knownName, bool) {
	for _, n := range k.names[:k.n] {
		if n.off == off {
			return n, true
		}
	}
	return knownName{}, false
}

// dotted is the presentation form of the uncompressed labels (without the
// final root label), a dot after each, followed by suffix, in one allocation.
func dotted(labels []byte, suffix string) string {
	var b strings.Builder
	b.Grow(len(labels) + len(suffix))
	for len(labels) > 0 {
		n := int(labels[0])
		b.Write(labels[1 : 1+n])
		b.WriteByte('.')
		labels = labels[1+n:]
	}
	b.WriteString(suffix)
	return b.String()
}

func plainLabel(b []byte) bool {
	for _, c := range b {
		if !wire.Plain(c) {
			return false
		}
	}
	return len(b) > 0
}
