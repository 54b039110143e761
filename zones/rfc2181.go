package zones

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// The rules of RFC 2181 that zone data can break, and what Load does about
// each. Load follows BIND 9's loader (lib/dns/master.c, zone.c) with its
// default options, so that a zone BIND serves, privdns serves the same way:
//
//   - §5.2, records of one RRset with different TTLs: warning; every record
//     takes the TTL of the RRset's first record in load order (the file's,
//     its $INCLUDEs' in place, then the inline records'). BIND warns "TTL set
//     to prior TTL" and does the same.
//   - §5, duplicate records in an RRset: merged silently, as BIND merges
//     them (a duplicate with another TTL gets the §5.2 warning first).
//   - §8, a TTL above 2147483647: warning; the TTL becomes 0, as RFC 2181
//     says and as BIND does ("TTL … > MAXTTL, setting TTL to 0").
//   - §10.1, a CNAME next to other data, or two CNAMEs at one name: error
//     (BIND: "CNAME and other data"); see addToNode.
//   - §10.3, an MX or NS target, and an SRV target (RFC 2782), that is an
//     alias in this zone: warning. BIND's defaults (check-mx-cname warn,
//     check-srv-cname warn) warn for MX and SRV; for NS it logs "is a CNAME
//     (illegal)" and loads the zone all the same. Targets outside the zone
//     are not looked up. PTR targets are not checked: RFC 2181 §10.2 does
//     not forbid aliases there, and BIND does not check them.
//   - §11, a label over 63 octets: error (the zone parser refuses it); a
//     name over 255 octets, in the owner or in the data: error, as in BIND
//     (the parser accepts it, but no client could read the reply). Data
//     over 65535 octets, which no reply can carry either, is an error too.

// maxTTL is the largest TTL RFC 2181 §8 allows.
const maxTTL = math.MaxInt32

// wireSize bounds one record on the wire: an owner of at most 255 octets,
// type, class, TTL and length, and at most 65535 octets of data.
const wireSize = 255 + 10 + 65535

// fitsWire returns why rr cannot be sent in a reply, or "". A record that
// packs is unpacked again, the same check a client's parser makes: that is
// where miekg/dns enforces the 255-octet limit of names. Types without names
// in their data, the bulk of a private zone, skip the unpacking and have
// only their owner measured.
func (b *builder) fitsWire(rr dns.RR) string {
	if plainAddress(rr) {
		return ""
	}
	b.scratch()
	n, err := dns.PackRR(rr, b.wire, 0, nil, false)
	if err == nil {
		switch rr.Header().Rrtype {
		case dns.TypeA, dns.TypeAAAA, dns.TypeTXT:
			if ownerOctets(b.wire[:n]) > 255 {
				err = dns.ErrLongDomain
			}
		default:
			_, _, err = dns.UnpackRR(b.wire[:n], 0)
		}
	}
	switch {
	case err == nil:
		return ""
	case strings.Contains(err.Error(), dns.ErrLongDomain.Error()):
		return "holds a name longer than 255 octets (RFC 2181 §11)"
	case errors.Is(err, dns.ErrBuf) || errors.Is(err, dns.ErrRdata):
		return "is longer than the 65535 octets a record may hold"
	}
	return fmt.Sprintf("cannot be sent in a reply: %v", err)
}

// plainAddress reports whether rr is an A or AAAA record with a valid
// address and a canonical owner of plain labels (isPlain), whose wire form
// fits without being packed: isPlain names are at most 254 characters, so
// at most 255 octets on the wire, and the data is four or sixteen octets.
func plainAddress(rr dns.RR) bool {
	switch rr := rr.(type) {
	case *dns.A:
		return rr.A.To4() != nil && isPlain(rr.Hdr.Name)
	case *dns.AAAA:
		return len(rr.AAAA) == net.IPv6len && isPlain(rr.Hdr.Name)
	}
	return false
}

// ownerOctets is the length of the uncompressed owner name that starts the
// packed record wire.
func ownerOctets(wire []byte) int {
	off := 0
	for off < len(wire) && wire[off] != 0 {
		off += int(wire[off]) + 1
	}
	return off + 1
}

// clampTTL applies RFC 2181 §8 to the record of e.
func (b *builder) clampTTL(e entry) {
	h := e.rr.Header()
	if h.Ttl > maxTTL {
		b.warnf(e, "%s: %s record: TTL %d is above %d (RFC 2181 §8); set to 0", h.Name, dns.TypeToString[h.Rrtype], h.Ttl, maxTTL)
		h.Ttl = 0
	}
}

// sameTTL gives the record of e the TTL of first, the first record of its
// RRset (RFC 2181 §5.2), warning when that changes it.
func (b *builder) sameTTL(e entry, first dns.RR) {
	h, want := e.rr.Header(), first.Header().Ttl
	if h.Ttl != want {
		b.warnf(e, "%s: %s record: TTL %d differs from the TTL of its RRset (RFC 2181 §5.2); set to prior TTL %d", h.Name, dns.TypeToString[h.Rrtype], h.Ttl, want)
		h.Ttl = want
	}
}

// hasTarget reports whether records of type t name a host that RFC 2181
// §10.3 (and RFC 2782 for SRV) forbids to be an alias.
func hasTarget(t uint16) bool {
	return t == dns.TypeMX || t == dns.TypeNS || t == dns.TypeSRV
}

// target returns the host an MX, NS or SRV record names.
func target(rr dns.RR) string {
	switch rr := rr.(type) {
	case *dns.MX:
		return rr.Mx
	case *dns.NS:
		return rr.Ns
	case *dns.SRV:
		return rr.Target
	}
	return ""
}

// checkTargets warns about every MX, NS and SRV record of the built zone z
// whose target is an alias in z, wildcard CNAMEs included (RFC 2181 §10.3).
func (b *builder) checkTargets(z *Zone) {
	for _, e := range b.targets {
		t := target(e.rr)
		if t == "." { // RFC 7505 null MX, RFC 2782 "no service"
			continue
		}
		if r := z.Lookup(t, dns.TypeA); r.Kind == CNAME {
			h := e.rr.Header()
			b.warnf(e, "%s: %s target %s is an alias (CNAME) in this zone; RFC 2181 §10.3 wants the name the CNAME points to", h.Name, dns.TypeToString[h.Rrtype], t)
		}
	}
}
