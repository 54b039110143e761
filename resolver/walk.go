package resolver

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// walk is the state of one resolution: the chain of names from the
// question to the final answer, crossing between private zones and public
// routes (R2–R6).
type walk struct {
	ctx    context.Context
	v      *View
	nv     *netView
	q      *Query
	obs    Observer
	qtype  uint16
	qclass uint16
	do, cd bool

	rcode  int
	answer []dns.RR
	auth   []dns.RR
	ede    []dns.EDNS0_EDE
	cnames int
	path   string // the kind of the last step: private, registered, public, localzone; fallback sticks

	// For the Recorder: whether the authority SOA came from the public path.
	authPublic bool
}

func newWalk(ctx context.Context, v *View, nv *netView, q *Query, obs Observer) *walk {
	w := &walk{ctx: ctx, v: v, nv: nv, q: q, obs: obs}
	if q.Recorder != nil {
		w.obs = teeObserver{obs, q.Recorder}
	}
	qs := q.Msg.Question[0]
	w.qtype, w.qclass = qs.Qtype, qs.Qclass
	w.cd = q.Msg.CheckingDisabled
	if opt := q.Msg.IsEdns0(); opt != nil {
		w.do = opt.Do()
	}
	return w
}

// run follows the chain from the question's name until an answer, a
// negative answer or an error.
func (w *walk) run() error {
	name := dns.CanonicalName(w.q.Msg.Question[0].Name)
	if w.qtype == dns.TypePTR && len(w.nv.reverse) > 0 && w.registeredPTR(name) {
		return nil
	}
	var fellBack *linkedZone // R4: this name goes public although this zone covers it
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		var next string
		var err error
		z := w.nv.zoneFor(name)
		switch {
		case z != nil && fellBack == nil:
			var fallback bool
			if next, fallback, err = w.private(z, name); fallback {
				fellBack = z
				continue
			}
		case fellBack != nil:
			// The zone beats any forwarding rule for its own namespace
			// (R2): the fallback takes the public path above it.
			next, err = w.public(name, w.v.routeAbove(w.nv, fellBack.apex()))
			fellBack = nil
		default:
			route := w.v.routeFor(w.nv, name)
			if lz := w.v.localZoneFor(name, route); lz != nil {
				w.local(lz, name)
				return nil
			}
			next, err = w.public(name, route)
		}
		if err != nil || next == "" {
			return err
		}
		name = next
	}
}

// registeredPTR answers a reverse name from the registrations of the
// zones linked to the network (R13), before R2, unless a linked zone holds
// the name itself. It reports whether it answered.
func (w *walk) registeredPTR(name string) bool {
	if !strings.HasSuffix(name, ".in-addr.arpa.") && !strings.HasSuffix(name, ".ip6.arpa.") {
		return false
	}
	if z := w.nv.zoneFor(name); z != nil {
		if data := z.src.Current(); data != nil && data.Lookup(name, dns.TypePTR).Kind != zones.NXDomain {
			return false
		}
	}
	var from []string
	for _, z := range w.nv.reverse {
		if ptrs := z.src.(ReverseSource).PTR(name); len(ptrs) > 0 {
			w.add(false, ptrs...)
			from = append(from, z.apex())
			w.obs.PrivateAnswer(trimDot(z.apex()), z.link.Name, "answer")
		}
	}
	if len(from) == 0 {
		return false
	}
	w.step("registered")
	if w.tracing() {
		w.trace("registrations of %s: %s is the reverse name of a registered address → %d PTR", strings.Join(from, ", "), name, len(w.answer))
	}
	w.rcode = dns.RcodeSuccess
	return true
}

// private answers name from a linked zone (R3, R4). It returns the next
// name to resolve for a CNAME, or fallback when the name must be resolved
// publicly instead.
func (w *walk) private(z *linkedZone, name string) (next string, fallback bool, err error) {
	l := &z.link
	zone := z.apex()
	data := z.src.Current()
	if data == nil {
		if w.tracing() {
			w.trace("private zone %s (link %s): no data to answer from (no transfer yet, or expired) → SERVFAIL", zone, l.Name)
		}
		return "", false, ErrZoneUnavailable
	}
	if cut, ok := data.Delegated(name); ok {
		// A delegation dropped from a transferred zone (R12): its names
		// are resolved on the public path, where a rule may send them on.
		if w.tracing() {
			w.trace("private zone %s (link %s): %s is delegated away at %s → public path", zone, l.Name, name, cut)
		}
		next, err = w.public(name, w.v.routeFor(w.nv, name))
		return next, false, err
	}
	w.step("private")
	res := data.Lookup(name, w.qtype)
	switch res.Kind {
	case zones.Answer:
		switch {
		case z.reg != nil && !res.Wildcard && z.reg.Registered(name):
			w.step("registered")
			if w.tracing() {
				w.trace("private zone %s (link %s, %s): %s %s → answer: records registered by UPDATE", zone, l.Name, l.Policy, name, typeName(w.qtype))
			}
		case w.tracing():
			w.trace("private zone %s (link %s, %s): %s %s → answer", zone, l.Name, l.Policy, name, typeName(w.qtype))
		}
		w.add(false, res.Records...)
		w.obs.PrivateAnswer(trimDot(zone), l.Name, "answer")
	case zones.CNAME:
		if w.tracing() {
			w.trace("private zone %s (link %s, %s): %s is a CNAME to %s", zone, l.Name, l.Policy, name, res.Target)
		}
		w.add(false, res.Records...)
		w.obs.PrivateAnswer(trimDot(zone), l.Name, "answer") // the zone answered: with a CNAME
		return res.Target, false, w.countCNAME()
	case zones.NoData:
		if w.tracing() {
			w.trace("private zone %s (link %s, %s): %s has no %s records → NODATA (never falls back)", zone, l.Name, l.Policy, name, typeName(w.qtype))
		}
		w.rcode, w.auth, w.authPublic = dns.RcodeSuccess, []dns.RR{res.SOA}, false
		w.obs.PrivateAnswer(trimDot(zone), l.Name, "nodata")
	case zones.NXDomain:
		if z.fallsBack(w.qtype) {
			if w.tracing() {
				w.trace("private zone %s (link %s, %s): %s does not exist → fallback to the public path", zone, l.Name, l.Policy, name)
			}
			w.explain(z)
			w.obs.PrivateAnswer(trimDot(zone), l.Name, "fallback")
			w.path = "fallback"
			return "", true, nil
		}
		why := l.Policy.String()
		if l.Policy == PolicyNxDomainRedirect {
			why += "; " + typeName(w.qtype) + " does not fall back"
		}
		if w.tracing() {
			w.trace("private zone %s (link %s, %s): %s does not exist → NXDOMAIN", zone, l.Name, why, name)
		}
		w.rcode, w.auth, w.authPublic = dns.RcodeNameError, []dns.RR{res.SOA}, false
		w.explain(z)
		w.obs.PrivateAnswer(trimDot(zone), l.Name, "nxdomain")
		if l.Policy == PolicyDefault {
			w.obs.NXDomain(zone, w.nv.name, l.Name, name)
		}
	}
	return "", false, nil
}

// add appends records to the answer, telling the Recorder whether they
// came from the public path.
func (w *walk) add(public bool, rrs ...dns.RR) {
	w.answer = append(w.answer, rrs...)
	if r := w.q.Recorder; r != nil {
		for _, rr := range rrs {
			r.Added(public, rr)
		}
	}
}

// step records the kind of the step that is answering now.
func (w *walk) step(kind string) {
	if w.path != "fallback" {
		w.path = kind
	}
}

func (w *walk) countCNAME() error {
	w.cnames++
	if w.cnames > MaxCNAMEs {
		return ErrChainLimit
	}
	return nil
}

// explain adds the R8 text for a private NXDOMAIN of l's zone, once: a
// chain that falls back twice through the same link says so once.
func (w *walk) explain(z *linkedZone) {
	l := &z.link
	if !w.v.explain {
		return
	}
	e := dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeOther,
		ExtraText: fmt.Sprintf("privdns: NXDOMAIN from private zone %s (link %s, %s)", trimDot(z.apex()), l.Name, l.Policy)}
	if !w.hasEDE(e) {
		w.ede = append(w.ede, e)
	}
}

func (w *walk) trace(format string, args ...any) { w.q.trace(format, args...) }

// tracing reports whether trace lines are wanted: callers test it first,
// since the arguments of a trace call are boxed (allocated) even when
// nobody reads them.
func (w *walk) tracing() bool { return w.q.Trace != nil }

// finish builds the reply: the chain in the answer section, the SOA of a
// negative answer (and its DNSSEC proofs) in authority, EDE options in an OPT record that the
// server merges with the client's EDNS.
func (w *walk) finish() *dns.Msg {
	resp := new(dns.Msg)
	resp.SetRcode(w.q.Msg, w.rcode)
	resp.RecursionAvailable = true
	resp.Answer, resp.Ns = w.answer, w.auth
	w.q.Path = w.path
	if r := w.q.Recorder; r != nil {
		for _, rr := range w.auth {
			r.Added(w.authPublic, rr)
		}
	}
	if len(w.ede) > 0 {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		for i := range w.ede {
			opt.Option = append(opt.Option, &w.ede[i])
		}
		resp.Extra = append(resp.Extra, opt)
	}
	return resp
}

// teeObserver tells both the Engine's Observer and the query's Recorder.
type teeObserver struct {
	Observer
	r Recorder
}

func (t teeObserver) PrivateAnswer(zone, link, outcome string) {
	t.Observer.PrivateAnswer(zone, link, outcome)
	t.r.PrivateAnswer(zone, link, outcome)
}

func (t teeObserver) CNAMEIntoPrivate(zone string) {
	t.Observer.CNAMEIntoPrivate(zone)
	t.r.CNAMEIntoPrivate(zone)
}

func (t teeObserver) NXDomain(zone, network, link, name string) {
	t.Observer.NXDomain(zone, network, link, name)
	t.r.NXDomain(zone, network, link, name)
}

func typeName(t uint16) string { return dns.Type(t).String() }

func trimDot(name string) string {
	if len(name) > 1 {
		return strings.TrimSuffix(name, ".")
	}
	return name
}
