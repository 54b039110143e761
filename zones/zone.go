package zones

import (
	"strings"

	"github.com/miekg/dns"
)

// Kind says what a lookup found.
type Kind uint8

// The outcomes of Lookup, named after SPEC R3.
const (
	Answer   Kind = iota // R3a / R3d: records of the asked type (possibly from a wildcard)
	CNAME                // R3b: name holds a CNAME and qtype != CNAME
	NoData               // R3c: name exists or is an empty non-terminal, no such type
	NXDomain             // R3e
)

// String names the kind for logs and test failures.
func (k Kind) String() string {
	switch k {
	case Answer:
		return "Answer"
	case CNAME:
		return "CNAME"
	case NoData:
		return "NoData"
	case NXDomain:
		return "NXDomain"
	}
	return "Kind(?)"
}

// Result is what Lookup found. Everything it points to belongs to the zone
// (except synthesised wildcard records) and must not be modified.
type Result struct {
	Kind Kind
	// Records is, for Answer, the RRset (owner = the query name as given,
	// for wildcard synthesis); for CNAME, the single CNAME RR. Shared with
	// the zone for exact matches (an A or AAAA record's address always):
	// callers must not modify.
	Records []dns.RR
	// Target is, for CNAME, the target as a lower-case FQDN, where
	// resolution restarts (R3b).
	Target string
	// SOA is, for NoData and NXDomain, the zone SOA with
	// Hdr.Ttl = min(SOA TTL, SOA Minttl) (RFC 2308). Shared; do not modify.
	SOA *dns.SOA
	// Wildcard reports that the answer was synthesised from a wildcard.
	Wildcard bool
}

// Zone is one loaded private zone. It is immutable after Load and safe for
// concurrent lookups without locks.
//
// It is laid out for zones of millions of records: a few slices per zone
// instead of a map entry, a node and a slice per name. Owner names are
// substrings of one string, every record's header names its owner with
// such a substring, A and AAAA records are a TTL and an address each, not
// dns.RRs, made into records when asked (addresses.go), and an
// open-addressing table of 32-bit slots finds a name's node (index.go).
type Zone struct {
	name    string            // lower-case FQDN apex
	names   string            // every owner name, back to back
	nodes   []node            // one per owner name, ENTs included; nodes[0] is the apex
	sets    []rrset           // every RRset, each node's in a row
	rrs     []dns.RR          // the records of the other RRsets, each RRset's and each node's in a row
	addrs   []address         // the records of the A and AAAA RRsets of class IN (addresses.go)
	ips     []byte            // their addresses
	index   index             // owner name → node
	targets map[uint32]string // CNAME node → its target, lower-case FQDN
	soa     *dns.SOA          // as configured, or the default
	negSOA  *dns.SOA          // soa with the negative TTL, for NoData/NXDomain
	// warnings are the repairs and oddities Load accepted (rfc2181.go).
	warnings []*Error
	cuts     []string  // delegations dropped by Transferred, lower-case FQDNs
	file     string    // the master file as Load was given it
	sources  []*source // the files Load read (sources.go)
}

// node is one owner name: its name in Zone.names and its RRsets in
// Zone.sets. An empty non-terminal has no sets.
type node struct {
	name    uint32 // offset in Zone.names
	nameLen uint16
	nsets   uint16
	set     uint32 // the first RRset in Zone.sets
}

// rrset is the records of one type at one name, in configured order:
// Zone.rrs[off : off+n], or Zone.addrs[off : off+n] when compact.
type rrset struct {
	typ     uint16
	compact bool
	n       uint32
	off     uint32
}

// owner is the canonical name of node i.
func (z *Zone) owner(i uint32) string {
	n := &z.nodes[i]
	return z.names[n.name : n.name+uint32(n.nameLen)]
}

// nodeSets is the RRsets of node i.
func (z *Zone) nodeSets(i uint32) []rrset {
	n := &z.nodes[i]
	return z.sets[n.set : n.set+uint32(n.nsets)]
}

// records is the records of set, node i's: the zone's own, capped so
// that an append by a caller copies, or made afresh for a compact set.
func (z *Zone) records(i uint32, set rrset) []dns.RR {
	if set.compact {
		return z.addresses(z.owner(i), set)
	}
	return z.rrs[set.off : set.off+set.n : set.off+set.n]
}

// all is every record at node i, for qtype ANY. Without compact sets its
// RRsets are in a row in rrs.
func (z *Zone) all(i uint32) []dns.RR {
	sets := z.nodeSets(i)
	if len(sets) == 0 {
		return nil
	}
	var out []dns.RR
	for _, s := range sets {
		if s.compact {
			out = make([]dns.RR, 0, z.nodeLen(i))
			break
		}
	}
	if out == nil {
		first, last := sets[0], sets[len(sets)-1]
		return z.rrs[first.off : last.off+last.n : last.off+last.n]
	}
	for _, s := range sets {
		out = append(out, z.records(i, s)...)
	}
	return out
}

// nodeLen is the number of records at node i.
func (z *Zone) nodeLen(i uint32) int {
	n := 0
	for _, s := range z.nodeSets(i) {
		n += int(s.n)
	}
	return n
}

// get returns the RRset of type t at node i, or nil.
func (z *Zone) get(i uint32, t uint16) []dns.RR {
	for _, s := range z.nodeSets(i) {
		if s.typ == t {
			return z.records(i, s)
		}
	}
	return nil
}

// Name is the zone apex as a lower-case FQDN.
func (z *Zone) Name() string { return z.name }

// SOA is the zone SOA as configured, or Azure's default when the zone has
// none. Shared with the zone: do not modify.
func (z *Zone) SOA() *dns.SOA { return z.soa }

// Warnings lists, in load order, the RFC 2181 problems Load repaired or
// let pass as BIND does (rfc2181.go), each with its file and line or its
// inline record. Shared with the zone: do not modify.
func (z *Zone) Warnings() []*Error { return z.warnings }

// Len is the number of RRsets, the unit Azure's per-zone limit counts.
func (z *Zone) Len() int { return len(z.sets) }

// Contains reports whether name is at or under the apex, case-insensitively
// and on label boundaries ("xexample.com." is not under "example.com.").
func (z *Zone) Contains(name string) bool {
	apex := z.name
	if !dns.IsFqdn(name) {
		if apex == "." {
			return true
		}
		apex = apex[:len(apex)-1]
	}
	return under(name, apex)
}

// under reports whether name equals the lower-case apex or lies below it
// on a label boundary, ignoring ASCII case. It does not allocate.
func under(name, apex string) bool {
	if apex == "." {
		return true
	}
	cut := len(name) - len(apex)
	return cut >= 0 && strings.EqualFold(name[cut:], apex) &&
		(cut == 0 || (name[cut-1] == '.' && !isEscapedDot(name, cut-1)))
}

// underKey is under for a lower-case key built by canonicalKey.
func underKey(key []byte, apex string) bool {
	if apex == "." {
		return true
	}
	cut := len(key) - len(apex)
	return cut >= 0 && string(key[cut:]) == apex &&
		(cut == 0 || (key[cut-1] == '.' && !isEscapedDot(key, cut-1)))
}

// isEscapedDot reports whether the '.' at name[i] is escaped by an odd run
// of backslashes, which makes it part of a label, not a separator.
func isEscapedDot[T string | []byte](name T, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && name[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// canonical spells name as names read from the wire are spelt (miekg/dns's
// presentation of the wire form: "x\065y" is "xay", "sp\032ace" is
// "sp\ ace"), in lower case and fully qualified, so that a name written
// with escapes in a zone file matches the same name asked by a client.
// A name that does not pack is only lower-cased.
func canonical(name string) string {
	if isPlain(name) {
		return name
	}
	return canonicalSlow(name)
}

// canonicalSlow is canonical by packing and unpacking name.
func canonicalSlow(name string) string {
	var buf [256]byte
	fq := dns.Fqdn(name)
	n, err := dns.PackDomainName(fq, buf[:], 0, nil, false)
	if err != nil {
		return dns.CanonicalName(name)
	}
	wire, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return dns.CanonicalName(name)
	}
	return dns.CanonicalName(wire)
}

// isPlain reports whether name is already canonical: a lower-case FQDN of
// letters, digits, '-' and '_' in labels of 1 to 63 octets, the spelling of
// almost every name in a zone file, which canonical then need not copy.
func isPlain(name string) bool {
	if len(name) < 2 || len(name) > 254 || name[len(name)-1] != '.' {
		return false
	}
	label := 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			if label++; label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
