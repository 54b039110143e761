package registration

import (
	"fmt"
	"reflect"

	"github.com/miekg/dns"
)

// checker is what judging an update's form needs: the zone's apex and a
// scratch buffer, which its user guards.
type checker struct {
	apex string // lower-case FQDN
	wire []byte // scratch for rdata lengths
}

func newChecker(apex string) checker { return checker{apex: apex, wire: make([]byte, 65535+512)} }

// Result is how Update answered.
type Result struct {
	Rcode  int    // dns.Rcode…: the rcode to answer with
	Reason string // why it is not NOERROR, for the log; "" on success
}

func fail(rcode int, format string, args ...any) Result {
	return Result{Rcode: rcode, Reason: fmt.Sprintf(format, args...)}
}

var ok = Result{Rcode: dns.RcodeSuccess}

// Update applies one RFC 2136 UPDATE for this zone from who, once the
// server has verified its TSIG and, for an unsigned update, that the
// client's network has a registrationEnabled link to the zone. An accepted
// update that changes something is journaled (fsynced) before Update
// returns NOERROR; when that fails nothing changed and the answer is
// SERVFAIL. msg is not modified. The caller answers with Result.Rcode,
// signed with the request's key when it was signed.
func (r *Registry) Update(msg *dns.Msg, who Principal) Result {
	if res := r.checkZone(msg); res.Rcode != dns.RcodeSuccess {
		return res
	}
	if r.readOnly {
		return fail(dns.RcodeServerFailure, "registrations read-only here (privdns explain)")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	// Registrations that lapsed go first, so that their names are free
	// and the prerequisites see the zone as it now is.
	if _, err := r.expireLocked(now); err != nil {
		return fail(dns.RcodeServerFailure, "expiring registrations: %v", err)
	}
	if who.key != "" && r.keys[who.key] && (r.replicas == nil || r.replicas[who.key]) {
		// A replica's forward of a client's registration (R13): the
		// client's own, as if sent here.
		if addr, forwarded := forwardedClient(msg); forwarded {
			who = Client(addr)
		}
	}
	st := r.cur.Load()
	if res := r.prerequisites(st.zone, msg.Answer); res.Rcode != dns.RcodeSuccess {
		return res
	}
	ops, res := r.prescan(msg.Ns)
	if res.Rcode != dns.RcodeSuccess {
		return res
	}
	if res := r.allowed(st, ops, who); res.Rcode != dns.RcodeSuccess {
		return res
	}
	return r.apply(st, ops, who, now)
}

// checkZone is RFC 2136 §3.1: one zone, of type SOA, this zone in class IN.
func (r *checker) checkZone(msg *dns.Msg) Result {
	switch {
	case msg == nil:
		return fail(dns.RcodeFormatError, "no message")
	case msg.Opcode != dns.OpcodeUpdate:
		return fail(dns.RcodeFormatError, "opcode %s, not UPDATE", dns.OpcodeToString[msg.Opcode])
	case len(msg.Question) != 1:
		return fail(dns.RcodeFormatError, "zone section holds %d records, not 1", len(msg.Question))
	}
	q := msg.Question[0]
	switch {
	case q.Qtype != dns.TypeSOA:
		return fail(dns.RcodeFormatError, "zone section type %s, not SOA", dns.Type(q.Qtype))
	case q.Qclass != dns.ClassINET:
		return fail(dns.RcodeNotAuth, "zone %s in class %s: only IN is held", q.Name, dns.Class(q.Qclass))
	case dns.CanonicalName(q.Name) != r.apex:
		return fail(dns.RcodeNotAuth, "zone %s is not %s", q.Name, r.apex)
	}
	return ok
}

// rdlen is the length of rr's data on the wire, which RFC 2136 constrains
// for classes ANY and NONE; false when rr has data that does not pack.
// The caller owns r.wire.
func (r *checker) rdlen(rr dns.RR) (int, bool) {
	if rr == nil {
		return 0, false
	}
	if isEmpty(rr) {
		return 0, true
	}
	n, err := dns.PackRR(rr, r.wire, 0, nil, false)
	if err != nil {
		return 0, false
	}
	if _, off, err := dns.UnpackRR(r.wire[:n], 0); err != nil || off != n {
		return 0, false // a name over 255 octets, say
	}
	at := ownerLen(r.wire[:n]) + 8
	return int(r.wire[at])<<8 | int(r.wire[at+1]), true
}

// isEmpty reports whether rr is what miekg/dns unpacks from a record
// without data (RDLENGTH 0): the zero value of its type. Some of those
// (an SOA, an MX) do not pack again, so their length is not measured.
func isEmpty(rr dns.RR) bool {
	h := rr.Header()
	if h.Rdlength != 0 {
		return false
	}
	var empty dns.RR = &dns.RFC3597{}
	if newRR, ok := dns.TypeToRR[h.Rrtype]; ok {
		empty = newRR()
	}
	*empty.Header() = *h
	return reflect.DeepEqual(rr, empty)
}

// ownerLen is the length of the uncompressed owner name at the start of wire.
func ownerLen(wire []byte) int {
	i := 0
	for i < len(wire) && wire[i] != 0 {
		i += int(wire[i]) + 1
	}
	return i + 1
}

// isMeta reports the types that are never data (RFC 2136 §3.4.1.3 names
// ANY, AXFR, MAILA and MAILB; OPT, TSIG, TKEY and IXFR are the same kind).
func isMeta(t uint16) bool {
	switch t {
	case dns.TypeANY, dns.TypeAXFR, dns.TypeIXFR, dns.TypeMAILA, dns.TypeMAILB,
		dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY:
		return true
	}
	return false
}

// opKind is what one update record asks (RFC 2136 §2.5).
type opKind uint8

const (
	opAdd      opKind = iota // class IN: add the record
	opDelRR                  // class NONE: delete the record
	opDelRRset               // class ANY, a type: delete the RRset
	opDelName                // class ANY, type ANY: delete every RRset at the name
)

// op is one record of the update section, checked: name canonical, and for
// opAdd and opDelRR a copy of the record with class IN and TTL 0.
type op struct {
	kind opKind
	name string
	typ  uint16
	rr   dns.RR
}

// prescan is RFC 2136 §3.4.1: every update record in the zone and well
// formed, before anything is judged or applied.
func (r *checker) prescan(rrs []dns.RR) ([]op, Result) {
	ops := make([]op, 0, len(rrs))
	for _, rr := range rrs {
		if rr == nil {
			return nil, fail(dns.RcodeFormatError, "an empty update record")
		}
		h := rr.Header()
		name, typ := dns.CanonicalName(h.Name), h.Rrtype
		if !dns.IsSubDomain(r.apex, name) {
			return nil, fail(dns.RcodeNotZone, "update of %s, outside zone %s", name, r.apex)
		}
		n, packs := r.rdlen(rr)
		if !packs {
			return nil, fail(dns.RcodeFormatError, "update record of %s does not pack", name)
		}
		o := op{name: name, typ: typ}
		switch h.Class {
		case dns.ClassINET:
			if isMeta(typ) || n == 0 {
				return nil, fail(dns.RcodeFormatError, "update adds %s %s with no data or a meta type", name, dns.Type(typ))
			}
			o.kind = opAdd
		case dns.ClassANY:
			if h.Ttl != 0 || n != 0 || (isMeta(typ) && typ != dns.TypeANY) {
				return nil, fail(dns.RcodeFormatError, "update deletes %s %s with a TTL, data or a meta type", name, dns.Type(typ))
			}
			o.kind = opDelRRset
			if typ == dns.TypeANY {
				o.kind = opDelName
			}
		case dns.ClassNONE:
			if h.Ttl != 0 || n == 0 || isMeta(typ) {
				return nil, fail(dns.RcodeFormatError, "update deletes a record of %s %s with a TTL, no data or a meta type", name, dns.Type(typ))
			}
			o.kind = opDelRR
		default:
			return nil, fail(dns.RcodeFormatError, "update record of %s in class %s", name, dns.Class(h.Class))
		}
		if o.kind == opAdd || o.kind == opDelRR {
			o.rr = dns.Copy(rr)
			*o.rr.Header() = dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET}
		}
		ops = append(ops, o)
	}
	return ops, ok
}
