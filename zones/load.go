package zones

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Load builds a zone from a master file and/or inline records, which merge.
//
// origin is the zone name (any case, trailing dot optional). file is an RFC
// 1035 master file ("" = none): $ORIGIN defaults to origin, $INCLUDE is
// resolved relative to the file's folder, $TTL is honoured and records
// without a TTL get 3600 (or, RFC 1035 style, the last TTL stated in the
// file). inline holds one record per entry in master-file syntax relative to
// the zone, default TTL 3600.
//
// Load reports every problem it finds as an Errors value, or returns nil.
// Syntax errors stop a file's parser, so a file reports at most one. Data
// that breaks RFC 2181 is refused or repaired as BIND's loader does (see
// rfc2181.go for each rule); every repair is listed by Zone.Warnings, with
// its file and line, so that `privdns check` and reloads can tell the user.
func Load(origin, file string, inline []string) (*Zone, error) {
	apex := canonical(origin)
	if _, ok := dns.IsDomainName(apex); !ok || origin == "" {
		return nil, Errors{{Msg: fmt.Sprintf("bad zone name %q", origin)}}
	}
	b := newBuilder(apex, namesHint(file))
	defer func() { b.release() }()
	var sources []*source
	if file != "" {
		var fast bool
		if sources, fast = fastRecords(apex, file, b.addOne); !fast {
			// Declined: what it read goes, the zone parser reads it all.
			b.release()
			b = newBuilder(apex, namesHint(file))
			var err *Error
			if sources, err = eachRecord(apex, file, b.addOne); err != nil {
				b.errs = append(b.errs, err)
			}
		}
	}
	for i, text := range inline {
		rr, msg := parseOne(apex, text)
		if msg != "" {
			b.errs = append(b.errs, &Error{Record: i + 1, Msg: msg})
			continue
		}
		b.addAll([]entry{{rr: rr, loc: Error{Record: i + 1}}})
	}
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	z := b.finish()
	b.checkTargets(z)
	z.warnings = b.warns
	z.file, z.sources = file, sources
	return z, nil
}

// builder accumulates records into drafts, one per owner name, and
// collects validation errors and warnings; finish packs the drafts into
// the compact Zone.
type builder struct {
	apex    string
	drafts  map[string]*draft // canonical owner name → its records, ENTs included
	errs    Errors
	warns   []*Error
	targets []entry                          // stored MX, NS and SRV records, checked once the zone is built
	wire    []byte                           // scratch space for fitsWire and foldedData (scratch)
	wireBuf *[wireSize]byte                  // its array, from wirePool
	index   map[rrsetKey]map[string][]dns.RR // large RRsets by folded data (dedup.go)
}

// newBuilder starts a zone; hint is about how many names it will have,
// so that the drafts' map is not grown a few times over while reading.
func newBuilder(apex string, hint int) *builder {
	drafts := make(map[string]*draft, hint)
	drafts[apex] = &draft{}
	return &builder{apex: apex, drafts: drafts}
}

// namesHint guesses the names of a master file from its size, erring
// high: a private zone's record line is some 20 to 40 bytes, the guess
// is one name per 16. At most a million, so that a file of comments costs
// no more than some tens of MB, and only while it loads.
func namesHint(file string) int {
	fi, err := os.Stat(file)
	if file == "" || err != nil {
		return 0
	}
	return int(min(fi.Size()/16, 1<<20))
}

func (b *builder) addAll(entries []entry) {
	for _, e := range entries {
		b.addOne(e)
	}
}

// addOne adds the record of e, or records its problem.
func (b *builder) addOne(e entry) {
	if msg := b.add(e); msg != "" {
		loc := e.loc
		loc.Msg = msg
		b.errs = append(b.errs, &loc)
	}
}

// wirePool holds the builders' scratch space, 64 KiB each: loading a
// thousand zones should not clear a thousand of them.
var wirePool = sync.Pool{New: func() any { return new([wireSize]byte) }}

// scratch is the builder's space for packing one record.
func (b *builder) scratch() []byte {
	if b.wire == nil {
		b.wireBuf = wirePool.Get().(*[wireSize]byte)
		b.wire = b.wireBuf[:]
	}
	return b.wire
}

// release gives the scratch space back once the zone is built.
func (b *builder) release() {
	if b.wireBuf != nil {
		wirePool.Put(b.wireBuf)
		b.wire, b.wireBuf = nil, nil
	}
}

// warnf records a warning at the location of e.
func (b *builder) warnf(e entry, format string, args ...any) {
	loc := e.loc
	loc.Msg = fmt.Sprintf(format, args...)
	b.warns = append(b.warns, &loc)
}

// add validates one record and stores it, returning a problem or "".
func (b *builder) add(e entry) string {
	rr := e.rr
	h := rr.Header()
	h.Name = canonical(h.Name)
	name, typ := h.Name, h.Rrtype
	if h.Class != dns.ClassINET {
		return fmt.Sprintf("%s: class %s not supported, only IN", name, dns.ClassToString[h.Class])
	}
	if msg := b.fitsWire(rr); msg != "" {
		return fmt.Sprintf("%s: %s record %s", name, dns.TypeToString[typ], msg)
	}
	b.clampTTL(e)
	if !under(name, b.apex) {
		return fmt.Sprintf("%s: owner is outside zone %s", name, b.apex)
	}
	atApex := name == b.apex
	switch {
	case typ == dns.TypeSOA && !atApex:
		return fmt.Sprintf("%s: SOA record not at the zone apex %s", name, b.apex)
	case typ == dns.TypeNS && !atApex:
		return fmt.Sprintf("%s: NS record below the apex (delegations are not supported)", name)
	case typ == dns.TypeCNAME && atApex:
		return fmt.Sprintf("%s: CNAME record at the zone apex", name)
	}
	n := b.drafts[name]
	if n == nil {
		n = &draft{}
		b.drafts[name] = n
	}
	return b.addToNode(n, e)
}

// addToNode stores the record of e in its RRset, giving it the RRset's TTL
// and merging duplicates (RFC 2181 §5), and refuses a second SOA and CNAMEs
// next to other data (RFC 1034 §3.6.2, RFC 2181 §10.1).
func (b *builder) addToNode(n *draft, e entry) string {
	rr := e.rr
	name, typ := rr.Header().Name, rr.Header().Rrtype
	set := n.get(typ)
	if len(set) > 0 {
		b.sameTTL(e, set[0])
	}
	if b.isDuplicate(n, set, rr) {
		return ""
	}
	switch {
	case typ == dns.TypeSOA && len(set) > 0:
		return fmt.Sprintf("%s: more than one SOA record", name)
	case typ == dns.TypeCNAME && len(set) > 0:
		return fmt.Sprintf("%s: more than one CNAME record", name)
	case typ == dns.TypeCNAME && len(n.sets) > 0:
		return fmt.Sprintf("%s: CNAME record next to other records (%s)", name, typeList(n))
	case typ != dns.TypeCNAME && n.get(dns.TypeCNAME) != nil:
		return fmt.Sprintf("%s: %s record next to a CNAME record", name, dns.TypeToString[typ])
	}
	if hasTarget(typ) {
		b.targets = append(b.targets, e)
	}
	b.indexAdd(n, rr)
	for i := range n.sets {
		if n.sets[i].typ == typ {
			n.sets[i].rrs = append(n.sets[i].rrs, rr)
			return ""
		}
	}
	n.sets = append(n.sets, draftSet{typ: typ, rrs: []dns.RR{rr}})
	return ""
}

// typeList names the types held at n, for error messages.
func typeList(n *draft) string {
	names := make([]string, len(n.sets))
	for i, s := range n.sets {
		names[i] = dns.TypeToString[s.typ]
	}
	return strings.Join(names, ", ")
}

// draft is one owner name while the zone is built. An empty non-terminal
// has no sets.
type draft struct {
	sets []draftSet // few per name, so a scan beats a map
}

// draftSet is the records of one type at one name, in configured order.
type draftSet struct {
	typ uint16
	rrs []dns.RR
}

// get returns the RRset of type t, or nil.
func (n *draft) get(t uint16) []dns.RR {
	for i := range n.sets {
		if n.sets[i].typ == t {
			return n.sets[i].rrs
		}
	}
	return nil
}
