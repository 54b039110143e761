package azure

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// plan is the configuration to write, every name settled and every
// reference checked, in output order.
type plan struct {
	networks []*outNetwork
	zones    []*outZone
	rulesets []*outRuleset
	dataDir  bool // a link registers
}

type outNetwork struct {
	name     string
	id       string
	prefixes []netip.Prefix
}

type outZone struct {
	z         *zone
	file      string // relative to the output folder
	links     []outLink
	sets      []*recordSet
	written   int // record sets written
	auto      int // auto-registered record sets written
	autoSkips int // auto-registered record sets left out
}

type outLink struct {
	name, network, policy string
	registration          bool
}

type outRuleset struct {
	rs       *ruleset
	name     string
	networks []string
	rules    []*rule
}

// resolve settles names, ties record sets and links to their zones, rules
// and links to their rulesets, and checks what Azure and privdns both
// forbid across objects.
func (im *importer) resolve() *plan {
	p := &plan{}
	nets := im.resolveNetworks(p)
	im.resolveZones(p, nets)
	im.resolveRulesets(p, nets)
	return p
}

// resolveNetworks names the networks (RESOURCEGROUP-NAME for VNets of one
// name) and returns them by VNet id key.
func (im *importer) resolveNetworks(p *plan) map[string]*outNetwork {
	names := uniqueNames(im, im.e.vnets, func(v *vnet) (object, string) { return v.object, v.rg }, "VNet")
	byKey := map[string]*outNetwork{}
	owner := map[netip.Prefix]*vnet{}
	for i, v := range im.e.vnets {
		n := &outNetwork{name: names[i], id: v.id}
		for j, pfx := range v.prefixes {
			if first, dup := owner[pfx]; dup && first == v {
				continue // listed twice in one VNet: the same prefix
			} else if dup {
				im.c.errorf(v.prefixAt[j], "%s is also a prefix of VNet %s (%s): privdns tells networks apart by the clients' addresses, so two VNets cannot share a prefix; drop it from one of them in the JSON, or serve one of them from a listener of its own", pfx, first.id, first.at)
				continue
			}
			owner[pfx] = v
			n.prefixes = append(n.prefixes, pfx)
		}
		slices.SortFunc(n.prefixes, comparePrefix)
		byKey[v.key()] = n
		p.networks = append(p.networks, n)
	}
	slices.SortFunc(p.networks, func(a, b *outNetwork) int { return cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	return byKey
}

func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// uniqueNames returns the privdns name of each resource: its own, or
// RESOURCEGROUP-NAME when two resources share the name (without regard to
// case). A name that is still not unique or breaks the §3 rule is reported.
func uniqueNames[T any](im *importer, items []T, of func(T) (object, string), what string) []string {
	byName := map[string]int{}
	for _, it := range items {
		o, _ := of(it)
		byName[strings.ToLower(o.name)]++
	}
	out := make([]string, len(items))
	taken := map[string]object{}
	for i, it := range items {
		o, rg := of(it)
		name := o.name
		if byName[strings.ToLower(o.name)] > 1 {
			name = qualified(rg, o.name)
		}
		out[i] = name
		if err := checkResourceName(name); err != nil {
			im.c.errorf(o.nameAt, "named %s after its resource group, as another %s has its name: %v", name, what, err)
			continue
		}
		if first, dup := taken[strings.ToLower(name)]; dup {
			im.c.errorf(o.nameAt, "%s %s would be named %s, as %s (%s) is: rename one of them in the JSON", what, o.id, name, first.id, first.at)
			continue
		}
		taken[strings.ToLower(name)] = o
	}
	return out
}

func (im *importer) resolveZones(p *plan, nets map[string]*outNetwork) {
	byKey := map[string]*outZone{}
	sameName := map[string]int{}
	for _, z := range im.e.zones {
		sameName[z.fqdn]++
	}
	files := map[string]*zone{}
	for _, z := range im.e.zones {
		oz := &outZone{z: z, file: "zones/" + z.fqdn + ".zone"}
		if sameName[z.fqdn] > 1 {
			oz.file = "zones/" + qualified(z.rg, z.fqdn) + ".zone"
		}
		if first, dup := files[oz.file]; dup {
			im.c.errorf(z.idAt, "zone %s would be written to %s, as zone %s (%s) is: two zones of one name in one resource group", z.id, oz.file, first.id, first.at)
			continue
		}
		files[oz.file] = z
		byKey[z.key()] = oz
		p.zones = append(p.zones, oz)
	}
	for _, rs := range im.e.sets {
		oz := byKey[rs.zoneKey]
		if oz == nil {
			im.c.errorf(rs.idAt, "the zone of this record set (%s) is not in the input: add what `az network private-dns zone list` prints", rs.zoneKey)
			continue
		}
		oz.sets = append(oz.sets, rs)
	}
	for _, oz := range p.zones {
		im.checkNames(oz)
	}
	im.resolveLinks(p, byKey, nets)
	slices.SortFunc(p.zones, func(a, b *outZone) int { return cmp.Or(cmp.Compare(a.z.fqdn, b.z.fqdn), cmp.Compare(a.file, b.file)) })
}

// checkNames reports what Azure forbids at one name of a zone (a CNAME
// beside other types, at the apex, or twice) and sorts the record sets
// into zone-file order.
func (im *importer) checkNames(oz *outZone) {
	byName := map[string][]*recordSet{}
	for _, rs := range oz.sets {
		k := strings.ToLower(rs.name)
		byName[k] = append(byName[k], rs)
	}
	for _, sets := range byName {
		var cname *recordSet
		for _, rs := range sets {
			if rs.rtype == dns.TypeCNAME {
				cname = rs
			}
		}
		if cname == nil {
			continue
		}
		if cname.name == "@" {
			im.c.errorf(cname.at, "a CNAME record set at the apex of zone %s: DNS forbids it", oz.z.fqdn)
		}
		for _, rs := range sets {
			if rs != cname {
				im.c.errorf(cname.at, "CNAME record set %s beside a %s record set of the same name (%s): Azure and DNS forbid a CNAME next to other records", cname.name, typeName(rs.rtype), rs.at)
			}
		}
	}
	slices.SortFunc(oz.sets, func(a, b *recordSet) int {
		return cmp.Or(compareNames(a.name, b.name), cmp.Compare(typeOrder(a.rtype), typeOrder(b.rtype)))
	})
}

func (im *importer) resolveLinks(p *plan, zones map[string]*outZone, nets map[string]*outNetwork) {
	linked := map[*outNetwork]map[string]loc{} // network → zone name → the link's place
	registering := map[*outNetwork]loc{}
	for _, l := range im.e.links {
		oz := zones[l.zoneKey]
		n := nets[idKey(l.vnetID)]
		switch {
		case oz == nil:
			im.c.errorf(l.idAt, "the zone of this link (%s) is not in the input: add what `az network private-dns zone list` prints", l.zoneKey)
			continue
		case n == nil:
			im.c.errorf(l.vnetAt, "VNet %s is not in the input: add what `az network vnet list` prints (for every subscription the links reach)", l.vnetID)
			continue
		}
		if linked[n] == nil {
			linked[n] = map[string]loc{}
		}
		if first, dup := linked[n][oz.z.fqdn]; dup {
			im.c.errorf(l.vnetAt, "VNet %s is already linked to a zone named %s (%s): a virtual network cannot be linked to two zones of one name", l.vnetID, oz.z.fqdn, first)
			continue
		}
		linked[n][oz.z.fqdn] = l.at
		if l.registration {
			if first, dup := registering[n]; dup {
				im.c.errorf(l.regAt, "VNet %s already has a registration-enabled link (%s): a virtual network registers in one zone only", l.vnetID, first)
				continue
			}
			registering[n] = l.at
			p.dataDir = true
		}
		oz.links = append(oz.links, outLink{name: l.name, network: n.name, policy: l.policy, registration: l.registration})
	}
	for _, oz := range p.zones {
		slices.SortFunc(oz.links, func(a, b outLink) int { return cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	}
}

func (im *importer) resolveRulesets(p *plan, nets map[string]*outNetwork) {
	names := uniqueNames(im, im.e.rulesets, func(rs *ruleset) (object, string) { return rs.object, rs.rg }, "ruleset")
	byKey := map[string]*outRuleset{}
	for i, rs := range im.e.rulesets {
		o := &outRuleset{rs: rs, name: names[i]}
		byKey[rs.key()] = o
		p.rulesets = append(p.rulesets, o)
	}
	domains := map[*outRuleset]map[string]loc{}
	for _, r := range im.e.rules {
		o := byKey[r.rulesetKey]
		if o == nil {
			im.c.errorf(r.idAt, "the ruleset of this rule (%s) is not in the input: add what `az dns-resolver forwarding-ruleset list` prints", r.rulesetKey)
			continue
		}
		if domains[o] == nil {
			domains[o] = map[string]loc{}
		}
		if first, dup := domains[o][r.domain]; dup {
			im.c.errorf(r.domainAt, "the ruleset already has a rule for %s (%s)", r.domain, first)
			continue
		}
		domains[o][r.domain] = r.domainAt
		o.rules = append(o.rules, r)
	}
	for _, l := range im.e.rsLinks {
		o, n := byKey[l.rulesetKey], nets[idKey(l.vnetID)]
		switch {
		case o == nil:
			im.c.errorf(l.idAt, "the ruleset of this link (%s) is not in the input: add what `az dns-resolver forwarding-ruleset list` prints", l.rulesetKey)
			continue
		case n == nil:
			im.c.errorf(l.vnetAt, "VNet %s is not in the input: add what `az network vnet list` prints (for every subscription the links reach)", l.vnetID)
			continue
		}
		if !slices.Contains(o.networks, n.name) {
			o.networks = append(o.networks, n.name)
		}
	}
	for _, o := range p.rulesets {
		slices.SortFunc(o.rules, func(a, b *rule) int { return compareNames(a.domain, b.domain) })
		slices.SortFunc(o.networks, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	}
	slices.SortFunc(p.rulesets, func(a, b *outRuleset) int { return cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	im.crossRulesets(p)
}

// crossRulesets reports two enabled rules for one domain that reach one
// network through two rulesets: privdns (and Azure) could not tell which
// one answers.
func (im *importer) crossRulesets(p *plan) {
	type first struct {
		ruleset string
		at      loc
	}
	seen := map[[2]string]first{}
	for _, o := range p.rulesets {
		for _, r := range o.rules {
			if r.state == "Disabled" {
				continue
			}
			for _, n := range o.networks {
				k := [2]string{n, r.domain}
				if f, dup := seen[k]; dup && f.ruleset != o.name {
					im.c.errorf(r.domainAt, "network %s already forwards %s through ruleset %s (%s)", n, r.domain, f.ruleset, f.at)
					break
				}
				seen[k] = first{o.name, r.domainAt}
			}
		}
	}
}

// compareNames orders names as DNS does (RFC 4034 §6.1, label by label
// from the right, without regard to case), the apex "@" first.
func compareNames(a, b string) int {
	la, lb := labels(a), labels(b)
	for i := 0; i < len(la) && i < len(lb); i++ {
		if c := cmp.Compare(la[i], lb[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

func labels(name string) []string {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "@" || name == "" {
		return nil
	}
	ls := strings.Split(name, ".")
	slices.Reverse(ls)
	return ls
}

// typeOrder puts the SOA first, then the types by number.
func typeOrder(t uint16) int {
	if t == dns.TypeSOA {
		return -1
	}
	return int(t)
}

func typeName(t uint16) string { return dns.TypeToString[t] }
