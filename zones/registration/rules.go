package registration

import (
	"strings"

	"github.com/miekg/dns"
)

// allowed is R13 for the checked update section: who may touch which
// names, with which types and data. Every violation is REFUSED.
func (r *Registry) allowed(st *state, ops []op, who Principal) Result {
	switch {
	case who.key != "":
		if !r.keys[who.key] {
			return fail(dns.RcodeRefused, "key %s is not one of the zone's registration keys", who.key)
		}
	case who.addr.IsValid():
		if len(ops) == 0 {
			return fail(dns.RcodeRefused, "an unsigned update must touch one name, this one touches none")
		}
	default:
		return fail(dns.RcodeRefused, "an update from nobody")
	}
	for _, o := range ops {
		if res := r.allowedName(st, o.name, who); res.Rcode != dns.RcodeSuccess {
			return res
		}
		var res Result
		if who.key != "" {
			res = keyOp(o)
		} else {
			res = clientOp(o, ops[0].name, who)
		}
		if res.Rcode != dns.RcodeSuccess {
			return res
		}
	}
	return ok
}

// allowedName is what both kinds of update share: a name strictly below
// the apex, not a wildcard, not held by the manual data, and free or
// registered by who.
func (r *Registry) allowedName(st *state, name string, who Principal) Result {
	if res := r.belowApex(name); res.Rcode != dns.RcodeSuccess {
		return res
	}
	switch {
	case holds(st.manual, name):
		return fail(dns.RcodeRefused, "%s is held by the zone's own records", name)
	}
	if e := st.names[name]; e != nil && e.owner != who {
		return fail(dns.RcodeRefused, "%s is registered by %s", name, e.owner)
	}
	return ok
}

// clientOp is R13 for an unsigned update: its one name, adds of the
// client's own address only, deletes of that record or of the name's
// address RRsets only.
func clientOp(o op, first string, who Principal) Result {
	own := uint16(dns.TypeA)
	if who.addr.Is6() {
		own = dns.TypeAAAA
	}
	if o.name != first {
		return fail(dns.RcodeRefused, "an unsigned update touches %s and %s: only one name is allowed", first, o.name)
	}
	switch o.kind {
	case opAdd, opDelRR:
		if o.typ != own {
			return fail(dns.RcodeRefused, "an unsigned update from %s may add or delete only its own %s record, not %s", who, dns.Type(own), dns.Type(o.typ))
		}
		if a, _ := address(o.rr); a != who.addr {
			return fail(dns.RcodeRefused, "%s %s: an unsigned update from %s may name only its own address", o.name, a, who)
		}
	case opDelRRset:
		if o.typ != dns.TypeA && o.typ != dns.TypeAAAA {
			return fail(dns.RcodeRefused, "an unsigned update may delete only the A or AAAA RRset of its name, not %s", dns.Type(o.typ))
		}
	case opDelName:
		return fail(dns.RcodeRefused, "an unsigned update may not delete every RRset of %s", o.name)
	}
	return ok
}

// keyOp is R13 for a signed update: A, AAAA, TXT and DHCID only.
func keyOp(o op) Result {
	switch o.typ {
	case dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeDHCID:
		return ok
	case dns.TypeANY:
		if o.kind == opDelName {
			return ok
		}
	case dns.TypePTR:
		return fail(dns.RcodeRefused, "PTR records are not registered: privdns answers the reverse names of registered addresses itself")
	}
	return fail(dns.RcodeRefused, "a signed update may add and delete only A, AAAA, TXT and DHCID records, not %s", dns.Type(o.typ))
}

// belowApex refuses the apex and wildcards: registered names are strictly
// below the apex and name one host.
func (c *checker) belowApex(name string) Result {
	switch {
	case name == c.apex:
		return fail(dns.RcodeRefused, "%s is the zone apex", name)
	case strings.HasPrefix(name, "*."):
		return fail(dns.RcodeRefused, "%s is a wildcard", name)
	}
	return ok
}
