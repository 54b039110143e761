package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// Policy is a link's resolution policy for private NXDOMAINs (R4).
type Policy uint8

const (
	// PolicyDefault answers a private NXDOMAIN as NXDOMAIN.
	PolicyDefault Policy = iota
	// PolicyNxDomainRedirect resolves the name on the public path instead.
	PolicyNxDomainRedirect
)

func (p Policy) String() string {
	if p == PolicyNxDomainRedirect {
		return "NxDomainRedirect"
	}
	return "Default"
}

// ParsePolicy reads a resolutionPolicy value, case-insensitively.
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(s) {
	case "", "default":
		return PolicyDefault, nil
	case "nxdomainredirect":
		return PolicyNxDomainRedirect, nil
	}
	return 0, fmt.Errorf("unknown resolution policy %q", s)
}

// DefaultFallbackTypes are the query types Azure falls back for (R4).
var DefaultFallbackTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME}

// Network is a client network: a name and its address prefixes.
type Network struct {
	Name     string
	Prefixes []netip.Prefix
}

// Link pairs a zone with a network (an Azure virtual network link).
type Link struct {
	Name    string
	Network string
	// Zone is the data of a zone loaded from a file; Source, when set
	// instead, hands out the current data of a zone that changes while
	// the View stands (a secondary zone, R12; registrations, R13).
	Zone          *zones.Zone
	Source        ZoneSource
	Policy        Policy
	FallbackTypes []uint16 // types that fall back besides DefaultFallbackTypes
}

// ZoneSource is a zone whose data changes under a View: Current is asked
// once per lookup, so it must be cheap (an atomic load) and safe for
// concurrent use. nil from Current means the zone has no data to answer
// from (before a first transfer, or expired): its names are SERVFAIL,
// never sent to the public path (R12).
type ZoneSource interface {
	Name() string // apex, lower-case FQDN; never changes
	Current() *zones.Zone
}

// ReverseSource is a ZoneSource that also answers reverse names of
// addresses registered in it (R13): PTR returns, for a lower-case FQDN in
// in-addr.arpa or ip6.arpa, a PTR record to each name registered at that
// address, or nil. A network linked to such a zone gets those answers
// before R2, unless one of its linked zones holds the name.
type ReverseSource interface {
	ZoneSource
	PTR(qname string) []dns.RR
}

// RegisteredSource is a ZoneSource some of whose names hold records
// registered by UPDATE (R13) rather than the zone's own: an answer at such
// a name takes path "registered" in the query log and says so in explain.
// Registered is asked only for a name the zone answered with records; it
// is given a lower-case FQDN and must be cheap and lock-free, like
// Current. It may see data a moment newer than the Current just answered
// from: it labels the answer, never changes it.
type RegisteredSource interface {
	ZoneSource
	Registered(name string) bool
}

// ErrZoneUnavailable is the SERVFAIL of a name in a linked zone that has
// no data to answer from: a secondary zone before its first transfer or
// after its SOA expire without a primary (R12).
var ErrZoneUnavailable = errors.New("the private zone has no data: its primaries have not answered")

// staticZone is the ZoneSource of a zone loaded once.
type staticZone struct{ z *zones.Zone }

func (s staticZone) Name() string         { return s.z.Name() }
func (s staticZone) Current() *zones.Zone { return s.z }

// Route is a public path: the default upstreams (Domain "") or one
// forwarding rule. Upstream is what answers it (usually a cache in front of
// an upstream group).
type Route struct {
	Name     string   // for traces and metrics: "upstreams" or "ruleset/domain"
	Domain   string   // the rule's domain, lower-case FQDN; "" for the default route
	Networks []string // the networks the rule's ruleset is linked to
	Disabled bool
	Targets  []string // for traces: the servers behind Upstream
	Upstream Exchanger
}

// ViewOptions is everything a View is built from.
type ViewOptions struct {
	Networks []Network
	Links    []Link
	Rules    []Route   // forwarding rules; disabled ones are kept for explain but never used
	Default  Exchanger // the default upstreams
	// DefaultTargets names the servers behind Default, for traces.
	DefaultTargets []string
	// UnknownClients names the network for sources in no network's prefixes;
	// "" or "refuse" refuses them (R1).
	UnknownClients string
	// Explain adds the R8 Extended DNS Error texts.
	Explain bool
	// LocalZones serves the zones of LocalZoneNames locally (RFC 6303,
	// server.localZones): false sends their names on the public path.
	LocalZones bool
}

// View is one immutable configuration snapshot: every per-network lookup
// table the query path needs, built once per load.
type View struct {
	nets     map[string]*netView
	prefixes []prefixNet // longest prefix first
	unknown  *netView
	explain  bool
	def      *Route
	local    map[string]*zones.Zone // nil when local zones are off
}

type prefixNet struct {
	prefix netip.Prefix
	net    *netView
}

// netView is what one network sees: its linked zones and its forwarding
// rules, each keyed by lower-case FQDN for label-wise suffix walks.
type netView struct {
	name    string
	zones   map[string]*linkedZone
	rules   map[string]*Route
	reverse []*linkedZone // linked zones whose source answers registered reverse names
}

type linkedZone struct {
	link Link
	src  ZoneSource       // the link's Source, or its Zone as one
	reg  RegisteredSource // src, when it has registered names; else nil
}

// apex is the linked zone's name.
func (z *linkedZone) apex() string { return z.src.Name() }

// NewView checks the options for references that do not resolve and
// builds the lookup tables.
func NewView(opts ViewOptions) (*View, error) {
	def := opts.Default
	if def == nil {
		def = noUpstream{}
	}
	v := &View{
		nets:    make(map[string]*netView, len(opts.Networks)),
		explain: opts.Explain,
		def:     &Route{Name: "upstreams", Targets: opts.DefaultTargets, Upstream: def},
	}
	if opts.LocalZones {
		v.local = localZones()
	}
	for _, n := range opts.Networks {
		if _, dup := v.nets[n.Name]; dup {
			return nil, fmt.Errorf("network %s: defined twice", n.Name)
		}
		nv := &netView{name: n.Name, zones: map[string]*linkedZone{}, rules: map[string]*Route{}}
		v.nets[n.Name] = nv
		for _, p := range n.Prefixes {
			v.prefixes = append(v.prefixes, prefixNet{p.Masked(), nv})
		}
	}
	slices.SortStableFunc(v.prefixes, func(a, b prefixNet) int { return b.prefix.Bits() - a.prefix.Bits() })
	if err := v.addLinks(opts.Links); err != nil {
		return nil, err
	}
	if err := v.addRules(opts.Rules); err != nil {
		return nil, err
	}
	if u := opts.UnknownClients; u != "" && !strings.EqualFold(u, "refuse") {
		if v.unknown = v.nets[u]; v.unknown == nil {
			return nil, fmt.Errorf("unknownClients: unknown network %q", u)
		}
	}
	return v, nil
}

func (v *View) addLinks(links []Link) error {
	for _, l := range links {
		nv := v.nets[l.Network]
		if nv == nil {
			return fmt.Errorf("link %s: unknown network %q", l.Name, l.Network)
		}
		src := l.Source
		switch {
		case src == nil && l.Zone == nil:
			return fmt.Errorf("link %s: no zone", l.Name)
		case src == nil:
			src = staticZone{l.Zone}
		}
		name := src.Name()
		if _, dup := nv.zones[name]; dup {
			return fmt.Errorf("link %s: network %s is already linked to a zone named %s", l.Name, l.Network, name)
		}
		lz := &linkedZone{link: l, src: src}
		lz.reg, _ = src.(RegisteredSource)
		nv.zones[name] = lz
		if _, ok := src.(ReverseSource); ok {
			nv.reverse = append(nv.reverse, lz)
		}
	}
	return nil
}

func (v *View) addRules(rules []Route) error {
	for i := range rules {
		r := &rules[i]
		if r.Disabled {
			continue
		}
		if r.Upstream == nil {
			return fmt.Errorf("rule %s: no targets", r.Name)
		}
		domain := dns.CanonicalName(r.Domain)
		for _, n := range r.Networks {
			nv := v.nets[n]
			if nv == nil {
				return fmt.Errorf("rule %s: unknown network %q", r.Name, n)
			}
			// Two rulesets linked to one network with the same domain:
			// the first wins, as config order is the only tie-breaker.
			if _, dup := nv.rules[domain]; !dup {
				nv.rules[domain] = r
			}
		}
	}
	return nil
}

// network chooses the client network (R1). It returns nil when the client
// is in no network and unknown clients are refused.
func (v *View) network(listenerNet string, client netip.Addr) (*netView, netip.Prefix) {
	if listenerNet != "" {
		return v.nets[listenerNet], netip.Prefix{}
	}
	client = client.Unmap()
	for _, p := range v.prefixes {
		if p.prefix.Contains(client) {
			return p.net, p.prefix
		}
	}
	return v.unknown, netip.Prefix{}
}

// NetworkOf names the network of a client as R1 chooses it in v ("" when
// the client is in none); listenerNet is the listener's own network, if any.
func (v *View) NetworkOf(listenerNet string, client netip.Addr) string {
	if nv, _ := v.network(listenerNet, client); nv != nil {
		return nv.name
	}
	return ""
}

// Explain reports whether answers carry the Extended DNS Error texts of
// R8 (server.explain): the server's SERVFAIL reasons follow it too.
func (v *View) Explain() bool { return v.explain }

// why explains a network choice for traces; only explain pays for it.
func why(listenerNet string, client netip.Addr, matched netip.Prefix) string {
	switch {
	case listenerNet != "":
		return "chosen by the listener the query came through"
	case matched.IsValid():
		return "source " + client.Unmap().String() + " is in " + matched.String() + " (longest prefix)"
	}
	return "source " + client.Unmap().String() + " is in no network; server.unknownClients names it"
}

// zoneFor returns the linked zone with the longest label-wise suffix of
// name (R2), or nil. name must be lower-case and fully qualified.
func (n *netView) zoneFor(name string) *linkedZone {
	if len(n.zones) == 0 {
		return nil
	}
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if z := n.zones[name[off:]]; z != nil {
			return z
		}
	}
	return nil
}

// routeFor returns the longest enabled forwarding rule covering name, or
// the default upstreams (R6).
func (v *View) routeFor(n *netView, name string) *Route {
	if len(n.rules) == 0 {
		return v.def
	}
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if r := n.rules[name[off:]]; r != nil {
			return r
		}
	}
	if r := n.rules["."]; r != nil {
		return r
	}
	return v.def
}

// routeAbove is the route of a fallback from the zone at apex: the
// longest enabled rule strictly above the zone's namespace, or the default
// upstreams. Rules for the zone's own namespace never see its misses (R2).
func (v *View) routeAbove(n *netView, apex string) *Route {
	if len(n.rules) > 0 && apex != "." {
		for off, end := dns.NextLabel(apex, 0); !end; off, end = dns.NextLabel(apex, off) {
			if r := n.rules[apex[off:]]; r != nil {
				return r
			}
		}
		if r := n.rules["."]; r != nil {
			return r
		}
	}
	return v.def
}

// fallsBack says whether a private NXDOMAIN for qtype resolves publicly:
// NxDomainRedirect, and qtype among A, AAAA, CNAME or the link's
// fallbackTypes, which widen that list (R4).
func (z *linkedZone) fallsBack(qtype uint16) bool {
	return z.link.Policy == PolicyNxDomainRedirect &&
		(slices.Contains(DefaultFallbackTypes, qtype) || slices.Contains(z.link.FallbackTypes, qtype))
}

// noUpstream is the public route of a View built without upstreams.
type noUpstream struct{}

func (noUpstream) Exchange(context.Context, *dns.Msg) (*dns.Msg, error) { return nil, ErrNoUpstream }
