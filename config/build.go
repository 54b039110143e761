package config

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// decode reads the settings tree into a Config, converting types. Values
// are checked for meaning later, by validate.
func decode(root node) *Config {
	cfg := &Config{
		Server:             decodeServer(root.child("server")),
		Upstreams:          decodeUpstreams(root.child("upstreams")),
		Networks:           decodeNetworks(root.items("networks")),
		Zones:              decodeZones(root.items("zones")),
		ForwardingRulesets: decodeRulesets(root.items("forwardingRulesets")),
		Cache:              decodeCache(root.child("cache")),
		Defaults:           Defaults{ResolutionPolicy: root.child("defaults").str("resolutionPolicy")},
	}
	decodeTransfers(root, cfg)
	decodeRegistrations(root, cfg)
	return cfg
}

func decodeServer(n node) Server {
	s := Server{
		HTTP:           n.str("http"),
		Admin:          n.str("admin"),
		LocalZones:     n.boolean("localZones"),
		Identity:       n.str("identity"),
		Explain:        n.boolean("explain"),
		UnknownClients: n.str("unknownClients"),
	}
	for _, l := range n.items("listeners") {
		s.Listeners = append(s.Listeners, Listener{Address: l.str("address"), Network: l.str("network")})
	}
	if len(s.Listeners) == 0 {
		s.Listeners = []Listener{{Address: defaultListener}}
	}
	log := n.child("log")
	s.Log = Log{
		Level:         log.str("level"),
		Format:        log.str("format"),
		Queries:       log.boolean("queries"),
		QuerySampling: log.number("querySampling"),
	}
	lim := n.child("limits")
	s.Limits = Limits{
		InFlight:                lim.integer("inFlight"),
		TCPConnections:          lim.integer("tcpConnections"),
		TCPIdleTimeout:          lim.duration("tcpIdleTimeout"),
		TCPQueriesPerConnection: lim.integer("tcpQueriesPerConnection"),
		UpstreamQueriesPerQuery: lim.integer("upstreamQueriesPerQuery"),
	}
	rl := n.child("rateLimit")
	s.RateLimit = RateLimit{
		Enabled:          rl.boolean("enabled"),
		QueriesPerSecond: rl.number("queriesPerSecond"),
		Burst:            rl.integer("burst"),
		Slip:             rl.integer("slip"),
		Exempt:           decodePrefixes(rl, "exempt"),
	}
	return s
}

func decodeUpstreams(n node) Upstreams {
	return Upstreams{Servers: n.strs("servers"), Policy: n.str("policy"), Timeout: n.duration("timeout")}
}

func decodeNetworks(items []node) []Network {
	out := make([]Network, len(items))
	for i, n := range items {
		out[i].Name = n.str("name")
		out[i].AddressPrefixes = decodePrefixes(n, "addressPrefixes")
	}
	return out
}

// decodePrefixes reads the list of CIDR prefixes at key, masked. A bad
// prefix is reported and stays as the zero Prefix, so indexes match the
// file.
func decodePrefixes(n node, key string) []netip.Prefix {
	var out []netip.Prefix
	for j, s := range n.strs(key) {
		item := fmt.Sprintf("%s[%d]", joinPath(n.path, key), j)
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		switch {
		case err != nil:
			n.r.errorf(item, "%q is not a CIDR prefix such as 10.1.0.0/16", s)
		case p.Addr().Is4In6() && p.Bits() >= 96:
			// Clients' addresses are matched unmapped: IPv4 clients
			// of a dual-stack listener never fall in ::ffff:0:0/96.
			v4 := netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			n.r.warnf(item, "%s is an IPv4-mapped prefix; read as %s", p, v4.Masked())
			p = v4
		case p != p.Masked():
			n.r.warnf(item, "%s has host bits set; read as %s", p, p.Masked())
		}
		out = append(out, p.Masked())
	}
	return out
}

func decodeZones(items []node) []Zone {
	out := make([]Zone, len(items))
	for i, n := range items {
		out[i] = Zone{Name: n.str("name"), File: n.str("file"), Records: n.strs("records")}
		for _, l := range n.items("links") {
			out[i].Links = append(out[i].Links, decodeLink(l))
		}
	}
	return out
}

func decodeLink(n node) Link {
	l := Link{
		Name:                n.str("name"),
		Network:             n.str("network"),
		ResolutionPolicy:    n.str("resolutionPolicy"),
		RegistrationEnabled: n.boolean("registrationEnabled"),
	}
	key := joinPath(n.path, "fallbackTypes")
	for j, s := range n.strs("fallbackTypes") {
		t, ok := dns.StringToType[strings.ToUpper(strings.TrimSpace(s))]
		if !ok {
			n.r.errorf(fmt.Sprintf("%s[%d]", key, j), "%q is not a DNS record type", s)
			continue
		}
		l.FallbackTypes = append(l.FallbackTypes, t)
	}
	if len(l.FallbackTypes) == 0 { // absent or [] (fallback for nothing would be a typo)
		l.FallbackTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME}
	}
	return l
}

func decodeRulesets(items []node) []Ruleset {
	out := make([]Ruleset, len(items))
	for i, n := range items {
		out[i] = Ruleset{Name: n.str("name"), Networks: n.strs("networks")}
		for _, r := range n.items("rules") {
			out[i].Rules = append(out[i].Rules, Rule{Domain: r.str("domain"), Targets: r.strs("targets"), State: r.str("state")})
		}
	}
	return out
}

func decodeCache(n node) Cache {
	stale := n.child("serveStale")
	return Cache{
		MaxEntries:     n.integer("maxEntries"),
		MinTTL:         n.duration("minTTL"),
		MaxTTL:         n.duration("maxTTL"),
		MaxNegativeTTL: n.duration("maxNegativeTTL"),
		ServeStale: ServeStale{
			Enabled:   stale.boolean("enabled"),
			AnswerTTL: stale.duration("answerTTL"),
			MaxAge:    stale.duration("maxAge"),
		},
		Prefetch: n.boolean("prefetch"),
	}
}
