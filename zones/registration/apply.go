package registration

import (
	"slices"
	"time"

	"github.com/miekg/dns"
)

// apply carries out an allowed update (RFC 2136 §3.4.2, in order), then
// journals and publishes what changed. The caller holds mu.
func (r *Registry) apply(st *state, ops []op, who Principal, now time.Time) Result {
	work := map[string]*entry{}
	var order []string
	for _, o := range ops {
		e := work[o.name]
		if e == nil {
			e = &entry{owner: who, since: now}
			if old := st.names[o.name]; old != nil {
				e = &entry{owner: old.owner, since: old.since, renewed: old.renewed, rrs: slices.Clone(old.rrs)}
			}
			work[o.name] = e
			order = append(order, o.name)
		}
		switch o.kind {
		case opAdd:
			if who.key == "" {
				// A registration of the client itself: its address
				// replaces what the name held of that type.
				e.rrs = withoutType(e.rrs, o.typ)
			}
			if !containsRR(e.rrs, o.rr) {
				e.rrs = append(e.rrs, o.rr)
			}
			e.renewed = now
		case opDelRR:
			e.rrs = slices.DeleteFunc(e.rrs, func(rr dns.RR) bool { return dns.IsDuplicate(rr, o.rr) })
		case opDelRRset:
			e.rrs = withoutType(e.rrs, o.typ)
		case opDelName:
			e.rrs = nil
		}
	}
	dataChanged := false
	var changes []nameState
	next := &state{manual: st.manual, names: clone(st.names), serial: st.serial, digest: st.digest}
	for _, name := range order {
		e, old := work[name], st.names[name]
		if len(e.rrs) == 0 {
			e = nil
		}
		switch {
		case e == nil && old == nil:
			continue // deleted what was not there: nothing to do
		case e == nil || old == nil || !sameRecords(e.rrs, old.rrs):
			dataChanged = true
		case e.renewed.Equal(old.renewed):
			continue
		}
		if e == nil {
			delete(next.names, name)
		} else {
			next.names[name] = e
		}
		changes = append(changes, encodeName(name, e))
	}
	if len(changes) == 0 {
		return ok
	}
	if dataChanged {
		next.serial++
		if err := r.finish(next); err != nil {
			r.log.Error("registration: update accepted but the zone does not build", "err", err)
			return fail(dns.RcodeServerFailure, "%v", err)
		}
	} else {
		next.zone, next.ptr = st.zone, st.ptr // a renewal: the data stays
		next.nextExpiry = nextExpiry(next.names, r.set.ExpireAfter)
	}
	if err := r.appendRecord(record{Serial: next.serial, Names: changes}, next); err != nil {
		r.log.Error("registration: journal append failed, update not applied", "err", err)
		return fail(dns.RcodeServerFailure, "journal: %v", err)
	}
	r.publish(next)
	return ok
}

// withoutType is rrs less its records of type t (a new slice).
func withoutType(rrs []dns.RR, t uint16) []dns.RR {
	return slices.DeleteFunc(slices.Clone(rrs), func(rr dns.RR) bool { return rr.Header().Rrtype == t })
}
