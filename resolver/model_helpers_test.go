package resolver

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
)

// This file is a reference model of SPEC §2 (R1–R6, R8), written from the
// SPEC alone and deliberately naive: linear scans, no indexes, no sharing
// with the engine's code. TestResolveMatchesModel compares the Engine with
// it on random worlds.

// modelWorld is one configuration as the model sees it.
type modelWorld struct {
	nets    []modelNet
	links   map[string][]modelLink // network name → its links
	rules   []*modelRule
	public  *resolvertest.Public // the default upstreams
	explain bool
	unknown string // network of unknown clients; "" refuses them
}

type modelNet struct {
	name     string
	prefixes []netip.Prefix
}

// modelZone holds a private zone's records by lower-case owner name.
type modelZone struct {
	name  string // lower-case FQDN
	names map[string][]dns.RR
}

type modelLink struct {
	name     string
	zone     *modelZone
	redirect bool     // NxDomainRedirect
	fallback []uint16 // nil: A, AAAA, CNAME
}

type modelRule struct {
	domain   string // lower-case FQDN, "." for everything
	nets     []string
	disabled bool
	public   *resolvertest.Public
}

// expectation is what the model says the engine must answer.
type expectation struct {
	servfail  bool // Resolve must return an error
	rcode     int
	answer    []dns.RR
	ns        []dns.RR
	edeMust   bool        // R8: a Default NXDOMAIN or a fallback answer
	edeMaybe  bool        // a private NXDOMAIN the SPEC does not ask to explain
	edeWhy    [][3]string // zone, link and policy of each step worth explaining
	happened  []string    // what the walk went through, for coverage counts
	cnames    int
	seenOwner map[string]bool
}

func (e *expectation) note(what string) { e.happened = append(e.happened, what) }

// modelRun is one question being resolved for one network.
type modelRun struct {
	w     *modelWorld
	net   string
	qtype uint16
	exp   *expectation
}

// expect answers (listener network, client, qname, qtype) by the SPEC.
func (w *modelWorld) expect(listener string, client netip.Addr, qname string, qtype uint16) *expectation {
	exp := &expectation{seenOwner: map[string]bool{}}
	net := w.networkFor(listener, client)
	if net == "" {
		exp.rcode = dns.RcodeRefused
		exp.note("refused")
		return exp
	}
	r := &modelRun{w: w, net: net, qtype: qtype, exp: exp}
	r.resolve(strings.ToLower(dns.Fqdn(qname)))
	if exp.servfail {
		exp.note("servfail")
	}
	return exp
}

// networkFor is R1: the listener's network, else the longest prefix
// containing the client, else unknownClients.
func (w *modelWorld) networkFor(listener string, client netip.Addr) string {
	if listener != "" {
		return listener
	}
	best, bestBits := w.unknown, -1
	for _, n := range w.nets {
		for _, p := range n.prefixes {
			if p.Contains(client) && p.Bits() > bestBits {
				best, bestBits = n.name, p.Bits()
			}
		}
	}
	return best
}

// modelUnder reports whether name is at or below domain, label-wise.
func modelUnder(name, domain string) bool {
	return domain == "." || name == domain || strings.HasSuffix(name, "."+domain)
}

func modelLabels(domain string) int {
	if domain == "." {
		return 0
	}
	return strings.Count(domain, ".")
}

// resolve is R2: the longest linked zone, else the public path.
func (r *modelRun) resolve(name string) {
	if l := r.zoneFor(name); l != nil {
		r.private(l, name)
		return
	}
	r.public(r.routeFor(name), name)
}

func (r *modelRun) zoneFor(name string) *modelLink {
	var best *modelLink
	for i, l := range r.w.links[r.net] {
		if modelUnder(name, l.zone.name) && (best == nil || modelLabels(l.zone.name) > modelLabels(best.zone.name)) {
			best = &r.w.links[r.net][i]
		}
	}
	return best
}

// routeFor is R6's choice: the longest enabled rule linked to the network,
// nil for the default upstreams.
func (r *modelRun) routeFor(name string) *modelRule {
	var best *modelRule
	for _, rule := range r.w.rules {
		if rule.disabled || !slices.Contains(rule.nets, r.net) || !modelUnder(name, rule.domain) {
			continue
		}
		if best == nil || modelLabels(rule.domain) > modelLabels(best.domain) {
			best = rule
		}
	}
	return best
}

// routeOutside is routeFor among the rules that are not at or under the
// zone apex.
func (r *modelRun) routeOutside(name, apex string) *modelRule {
	var best *modelRule
	for _, rule := range r.w.rules {
		if rule.disabled || !slices.Contains(rule.nets, r.net) || !modelUnder(name, rule.domain) || modelUnder(rule.domain, apex) {
			continue
		}
		if best == nil || modelLabels(rule.domain) > modelLabels(best.domain) {
			best = rule
		}
	}
	return best
}

// addCNAME puts a CNAME on the answer; false when the chain is now longer
// than 11 or loops (R3b), which is SERVFAIL.
func (r *modelRun) addCNAME(rr dns.RR) bool {
	owner := strings.ToLower(rr.Header().Name)
	r.exp.answer = append(r.exp.answer, rr)
	r.exp.cnames++
	if r.exp.seenOwner[owner] || r.exp.cnames > MaxCNAMEs {
		r.exp.servfail = true
		return false
	}
	r.exp.seenOwner[owner] = true
	return true
}

// private is R3 in the zone of link l.
func (r *modelRun) private(l *modelLink, name string) {
	z := l.zone
	rrs, owner := z.names[name], name
	if !z.exists(name) {
		wild := "*." + z.closestEncloser(name)
		if rrs = z.names[wild]; rrs == nil {
			r.nxdomain(l, name)
			return
		}
		r.exp.note("wildcard")
	}
	var match []dns.RR
	var cname dns.RR
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		rr.Header().Name = owner
		switch {
		case rr.Header().Rrtype == r.qtype:
			match = append(match, rr)
		case rr.Header().Rrtype == dns.TypeCNAME:
			cname = rr
		}
	}
	switch {
	case match != nil:
		r.exp.note("private answer")
		r.exp.rcode, r.exp.answer = dns.RcodeSuccess, append(r.exp.answer, match...)
	case cname != nil:
		r.exp.note("private cname")
		if r.addCNAME(cname) {
			r.resolve(strings.ToLower(cname.(*dns.CNAME).Target))
		}
	default:
		r.exp.note("private nodata")
		r.exp.rcode, r.exp.ns = dns.RcodeSuccess, []dns.RR{z.soa()}
	}
}

// nxdomain is R4 for a name missing from l's zone.
func (r *modelRun) nxdomain(l *modelLink, name string) {
	// fallbackTypes widen the list A, AAAA, CNAME (R4).
	types := append([]uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME}, l.fallback...)
	if l.redirect && slices.Contains(types, r.qtype) {
		r.exp.note("fallback")
		r.exp.edeMust = true
		r.explain(l)
		// R2: a rule for the zone's own namespace never sees its misses.
		r.public(r.routeOutside(name, l.zone.name), name)
		return
	}
	r.exp.note("private nxdomain")
	r.exp.rcode, r.exp.ns = dns.RcodeNameError, []dns.RR{l.zone.soa()}
	r.explain(l)
	if l.redirect {
		r.exp.edeMaybe = true
	} else {
		r.exp.edeMust = true
	}
}

// explain notes what an R8 text may name: the zone, the link, the policy.
func (r *modelRun) explain(l *modelLink) {
	policy := "Default"
	if l.redirect {
		policy = "NxDomainRedirect"
	}
	r.exp.edeWhy = append(r.exp.edeWhy, [3]string{strings.TrimSuffix(l.zone.name, "."), l.name, policy})
}

// public is R6 through route (nil: the default upstreams), walking the
// reply's chain and cutting it where R5 says so.
func (r *modelRun) public(route *modelRule, name string) {
	pub := r.w.public
	if route != nil {
		pub = route.public
	}
	reply := pub.Answer(resolvertest.Query(name, r.qtype))
	for cur := name; ; {
		var match []dns.RR
		var cname dns.RR
		for _, rr := range reply.Answer {
			switch {
			case !strings.EqualFold(rr.Header().Name, cur):
			case rr.Header().Rrtype == r.qtype:
				match = append(match, rr)
			case rr.Header().Rrtype == dns.TypeCNAME:
				cname = rr
			}
		}
		if match != nil || cname == nil {
			r.exp.note("public end")
			r.exp.rcode, r.exp.answer = reply.Rcode, append(r.exp.answer, match...)
			if match == nil {
				r.exp.ns = reply.Ns
			}
			return
		}
		if !r.addCNAME(cname) {
			return
		}
		cur = strings.ToLower(cname.(*dns.CNAME).Target)
		if l := r.zoneFor(cur); l != nil {
			r.exp.note("cut into private")
			r.private(l, cur)
			return
		}
		if next := r.routeFor(cur); next != nil && next != route {
			r.exp.note("cut into rule")
			r.public(next, cur)
			return
		}
	}
}

// modelDiff says how the engine's answer differs from the model's, or "".
func modelDiff(exp *expectation, resp *dns.Msg, err error, explain bool) string {
	if exp.servfail {
		if err == nil {
			return "got an answer, want an error (SERVFAIL)"
		}
		return ""
	}
	if err != nil {
		return fmt.Sprintf("got error %v, want %s %q", err, dns.RcodeToString[exp.rcode], modelNorm(exp.answer, false))
	}
	if resp.Rcode != exp.rcode {
		return fmt.Sprintf("rcode %s, want %s (answer want %q)", dns.RcodeToString[resp.Rcode], dns.RcodeToString[exp.rcode], modelNorm(exp.answer, false))
	}
	if got, want := modelNorm(resp.Answer, false), modelNorm(exp.answer, false); !slices.Equal(got, want) {
		return fmt.Sprintf("answer\n got %q\nwant %q", got, want)
	}
	if got, want := modelNorm(resp.Ns, true), modelNorm(exp.ns, true); !slices.Equal(got, want) {
		return fmt.Sprintf("authority %q, want %q", got, want)
	}
	return modelEDEDiff(exp, distinct(resolvertest.EDETexts(resp)), explain)
}

// modelNorm renders records with names in lower case, each RRset
// sorted (order within an RRset is not part of the contract). ownerType
// keeps only owner and type.
func modelNorm(rrs []dns.RR, ownerType bool) []string {
	var out, keys []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		key := strings.ToLower(rr.Header().Name) + " " + dns.TypeToString[rr.Header().Rrtype]
		keys = append(keys, key)
		if ownerType {
			out = append(out, key)
			continue
		}
		c := dns.Copy(rr)
		out = append(out, strings.ToLower(strings.ReplaceAll(c.String(), "\t", " ")))
	}
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && keys[j] == keys[i] {
			j++
		}
		slices.Sort(out[i:j])
		i = j
	}
	return out
}

// modelEDEDiff checks the R8 texts: one where the SPEC asks for it, none
// where nothing was explained or explain is off, and each naming the zone,
// link and policy of a step of this chain.
func modelEDEDiff(exp *expectation, texts []string, explain bool) string {
	switch {
	case !explain && len(texts) > 0, len(texts) > 0 && !exp.edeMust && !exp.edeMaybe:
		return fmt.Sprintf("unexpected EDE %q", texts)
	case explain && len(texts) == 0 && exp.edeMust:
		return "no EDE, want one (R8)"
	case len(texts) > len(exp.edeWhy):
		return fmt.Sprintf("EDEs %q, want at most one per step explained (%q)", texts, exp.edeWhy)
	}
	for _, text := range texts {
		if !slices.ContainsFunc(exp.edeWhy, func(why [3]string) bool {
			return strings.Contains(text, why[0]+" ") && strings.Contains(text, "link "+why[1]+",") && strings.Contains(text, why[2])
		}) {
			return fmt.Sprintf("EDE %q names none of the zone, link and policy of %q (R8)", text, exp.edeWhy)
		}
	}
	return ""
}

// distinct sorts and drops repeated strings (repeats of EDE texts are
// counted and failed separately in TestResolveMatchesModel).
func distinct(texts []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(texts)))
}

// exists: the apex, an owner, or an empty non-terminal above an owner.
func (z *modelZone) exists(name string) bool {
	if name == z.name || z.names[name] != nil {
		return true
	}
	for owner := range z.names {
		if strings.HasSuffix(owner, "."+name) {
			return true
		}
	}
	return false
}

// closestEncloser is the longest existing ancestor of a missing name.
func (z *modelZone) closestEncloser(name string) string {
	for {
		name = name[strings.Index(name, ".")+1:]
		if z.exists(name) {
			return name
		}
	}
}

// soa is the zone's SOA as far as the comparison looks at it (owner, type).
func (z *modelZone) soa() dns.RR {
	return &dns.SOA{Hdr: dns.RR_Header{Name: z.name, Rrtype: dns.TypeSOA, Class: dns.ClassINET}}
}
