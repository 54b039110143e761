package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// networkIndex maps lower-cased network names to their declared spelling:
// names compare without regard to case, as Azure resource names do.
type networkIndex map[string]string

// ref resolves a reference to a network and returns its declared spelling,
// reporting a missing or unknown one at key.
func (ni networkIndex) ref(r *report, key, name string) (string, bool) {
	if name == "" {
		r.errorf(key, "required")
		return "", false
	}
	declared, ok := ni[strings.ToLower(name)]
	if !ok {
		r.errorf(key, "unknown network %q", name)
		return name, false
	}
	return declared, true
}

func validateNetworks(r *report, networks []Network) networkIndex {
	nets := networkIndex{}
	owner := map[netip.Prefix]string{} // prefix → network declaring it
	for i, n := range networks {
		key := fmt.Sprintf("networks[%d]", i)
		if err := checkResourceName(n.Name); err != nil {
			r.errorf(key+".name", "%v", err)
		} else if _, dup := nets[strings.ToLower(n.Name)]; dup {
			r.errorf(key+".name", "network %q is declared twice", n.Name)
		} else {
			nets[strings.ToLower(n.Name)] = n.Name
		}
		for j, p := range n.AddressPrefixes {
			if !p.IsValid() {
				continue // reported by decode
			}
			if other, dup := owner[p]; dup {
				r.errorf(fmt.Sprintf("%s.addressPrefixes[%d]", key, j), "%s is already a prefix of network %q", p, other)
				continue
			}
			owner[p] = n.Name
		}
	}
	return nets
}

// linkCheck holds what the links seen so far claim, to catch conflicts
// between links of different zones.
type linkCheck struct {
	r    *report
	nets networkIndex
	// linked maps a network to the zone names linked to it, each with the
	// key of its link.
	linked map[string]map[string]string
	// registering maps a network to the key of its registrationEnabled link.
	registering map[string]string
	policy      string // defaults.resolutionPolicy, for links that name none
}

func validateZones(r *report, zs []Zone, nets networkIndex, policy string) {
	lc := &linkCheck{r: r, nets: nets, linked: map[string]map[string]string{}, registering: map[string]string{}, policy: policy}
	for i := range zs {
		z := &zs[i]
		key := fmt.Sprintf("zones[%d]", i)
		name, err := domainName(z.Name, false)
		if err != nil {
			r.errorf(key+".name", "%v", err)
		}
		z.Name = name // "" when bad: loadZones skips it
		// A zone with a transfer block is there for its secondaries too.
		if len(z.Links) == 0 && z.Transfer == nil && name != "" && !r.isBroken(key+".links") {
			r.warnf(key+".links", "zone %s has no links, so no network resolves it (add links: [{name: …, network: …}])", name)
		}
		names := map[string]string{}
		for j := range z.Links {
			lc.link(z.Name, fmt.Sprintf("%s.links[%d]", key, j), &z.Links[j], names)
		}
	}
}

// link checks one link of the zone named zone; names maps the lower-cased
// names of the zone's links seen so far to their keys.
func (lc *linkCheck) link(zone, key string, l *Link, names map[string]string) {
	r := lc.r
	if err := checkResourceName(l.Name); err != nil {
		r.errorf(key+".name", "%v", err)
	} else if first, dup := names[strings.ToLower(l.Name)]; dup {
		r.errorf(key+".name", "the zone already has a link named %q (%s)", l.Name, first)
	} else {
		names[strings.ToLower(l.Name)] = key
	}
	from := ""
	if l.ResolutionPolicy == "" {
		l.ResolutionPolicy, from = lc.policy, " (from defaults.resolutionPolicy)"
	}
	l.ResolutionPolicy = oneOf(r, key+".resolutionPolicy", l.ResolutionPolicy, policies...)
	if l.ResolutionPolicy == "NxDomainRedirect" && zone != "" && !hasLabel(zone, "privatelink") {
		r.warnf(key+".resolutionPolicy", "NxDomainRedirect%s on zone %s, which has no privatelink label (Azure refuses this)", from, zone)
	}
	network, ok := lc.nets.ref(r, key+".network", l.Network)
	l.Network = network
	if !ok || zone == "" {
		return
	}
	if lc.linked[network] == nil {
		lc.linked[network] = map[string]string{}
	}
	if first, dup := lc.linked[network][zone]; dup && sameZone(first, key) {
		r.errorf(key+".network", "network %q is already linked to this zone (%s): one link per network", network, first)
	} else if dup {
		r.errorf(key+".network", "network %q is already linked to a zone named %s (%s): a network cannot be linked to two zones with the same name", network, zone, first)
	} else {
		lc.linked[network][zone] = key
	}
	if l.RegistrationEnabled {
		if first, dup := lc.registering[network]; dup {
			r.errorf(key+".registrationEnabled", "network %q already has a registration-enabled link (%s)", network, first)
		} else {
			lc.registering[network] = key
		}
	}
}

// hasLabel reports whether the DNS name holds label.
func hasLabel(name, label string) bool {
	return slices.Contains(strings.Split(strings.TrimSuffix(name, "."), "."), label)
}

// sameZone reports whether two link keys ("zones[3].links[0]") are links of
// one zone.
func sameZone(a, b string) bool {
	za, _, _ := strings.Cut(a, ".links[")
	zb, _, _ := strings.Cut(b, ".links[")
	return za == zb
}
