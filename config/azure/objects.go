package azure

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Azure resource types of SPEC §7, lower-cased: types compare without
// regard to case, like ids.
const (
	typeVNet        = "microsoft.network/virtualnetworks"
	typeZone        = "microsoft.network/privatednszones"
	typeZoneLink    = "microsoft.network/privatednszones/virtualnetworklinks"
	typeRuleset     = "microsoft.network/dnsforwardingrulesets"
	typeRule        = "microsoft.network/dnsforwardingrulesets/forwardingrules"
	typeRulesetLink = "microsoft.network/dnsforwardingrulesets/virtualnetworklinks"
)

// object is what every imported Azure resource has.
type object struct {
	at     loc // the object itself
	idAt   loc
	nameAt loc
	id     string // as written
	name   string
}

func (o object) key() string { return idKey(o.id) }

type vnet struct {
	object
	rg       string
	prefixes []netip.Prefix
	prefixAt []loc
}

type zone struct {
	object
	rg   string
	fqdn string // lower-cased, without the final dot
	// Azure's own counts, -1 when the input does not give them; they tell
	// a user that a listing is missing.
	recordSets, links int64
}

type zoneLink struct {
	object
	zoneKey      string
	vnetID       string
	vnetAt       loc
	policy       string // Default | NxDomainRedirect
	registration bool
	regAt        loc
}

type ruleset struct {
	object
	rg string
}

type rule struct {
	object
	rulesetKey string
	domain     string // lower-cased, with the final dot; "." for everything
	domainAt   loc
	targets    []string // ip:port
	state      string   // Enabled | Disabled
}

type rulesetLink struct {
	object
	rulesetKey string
	vnetID     string
	vnetAt     loc
}

// skipped counts the objects of one type that privdns does not import.
type skipped struct {
	typ   string
	first loc
	n     int
}

// readObject reads one top-level object, recognised by its type. The
// fields are under "properties" in ARM's shape and beside "type" in the
// CLI's flattened one; id, name and type are at the top in both.
func (im *importer) readObject(o node) {
	if !o.is(kindObject) {
		o.errorf("must be an object, not %s", o.describe())
		return
	}
	typ := o.get("type").str(false)
	body := o
	if p := o.get("properties"); p.is(kindObject) {
		body = p
	}
	lt := strings.ToLower(typ)
	switch {
	case lt == typeVNet:
		im.readVNet(o, body)
	case lt == typeZone:
		im.readZone(o, body)
	case lt == typeZoneLink:
		im.readZoneLink(o, body)
	case lt == typeRuleset:
		im.readRuleset(o)
	case lt == typeRule:
		im.readRule(o, body)
	case lt == typeRulesetLink:
		im.readRulesetLink(o, body)
	case strings.HasPrefix(lt, typeZone+"/") && recordTypes[lt[len(typeZone)+1:]] != 0:
		im.readRecordSet(o, body, recordTypes[lt[len(typeZone)+1:]])
	default:
		im.skip(o, typ)
	}
}

// skip notes an object of a type privdns does not import; one notice per
// type is given at the end.
func (im *importer) skip(o node, typ string) {
	k := strings.ToLower(typ)
	if s, ok := im.skipped[k]; ok {
		s.n++
		return
	}
	im.skipped[k] = &skipped{typ: typ, first: o.at(), n: 1}
}

// common reads id and name. own, when set, is the id's last resource type
// ("virtualNetworks"): the id must end in it and a name.
func common(o node, own string) object {
	id, name := o.get("id"), o.get("name")
	obj := object{at: o.at(), idAt: id.at(), nameAt: name.at(), id: id.str(true), name: name.str(true)}
	if own != "" && obj.id != "" {
		if k, ok := parentID(obj.id, own); !ok || k != obj.key() {
			id.errorf("%q is not the id of a resource of type %s", obj.id, own)
		}
	}
	return obj
}

// below checks that obj's id lies in a resource of type parent, directly
// as one of type child, and returns the parent's key.
func below(o node, obj object, parent, child string) string {
	key, ok := parentID(obj.id, parent)
	if obj.id != "" && (!ok || !childOf(obj.id, parent, child)) {
		o.get("id").errorf("%q is not the id of a %s/%s resource (…/%s/NAME/%s/NAME)", obj.id, parent, child, parent, child)
	}
	return key
}

// Each reader below adds its object only when reading it found no problem:
// a later check would otherwise pile consequences on top.

func (im *importer) readVNet(o, body node) {
	before := len(im.c.problems)
	obj := common(o, "virtualNetworks")
	v := &vnet{object: obj, rg: resourceGroup(obj.id)}
	list := body.get("addressSpace").get("addressPrefixes")
	if !list.present() {
		list.errorf("required")
	}
	for _, item := range list.items() {
		s := item.str(true)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if s != "" {
				item.errorf("%q is not an address prefix such as 10.1.0.0/16 or fd00:1::/64", s)
			}
			continue
		}
		if p != p.Masked() {
			im.c.noticef("%s: %s has host bits set; imported as %s", item.at(), p, p.Masked())
		}
		v.prefixes = append(v.prefixes, p.Masked())
		v.prefixAt = append(v.prefixAt, item.at())
	}
	if len(im.c.problems) == before {
		im.e.add(im, obj, fmt.Sprint(v.prefixes), func() { im.e.vnets = append(im.e.vnets, v) })
	}
}

func (im *importer) readZone(o, body node) {
	before := len(im.c.problems)
	obj := common(o, "privateDnsZones")
	z := &zone{object: obj, rg: resourceGroup(obj.id), recordSets: count(body.get("numberOfRecordSets")), links: count(body.get("numberOfVirtualNetworkLinks"))}
	if obj.name != "" {
		fqdn, err := zoneName(obj.name)
		if err != nil {
			o.get("name").errorf("%v", err)
		}
		z.fqdn = fqdn
	}
	if len(im.c.problems) == before {
		im.e.add(im, obj, z.fqdn, func() { im.e.zones = append(im.e.zones, z) })
	}
}

// count reads one of Azure's counters, leniently: it only feeds a notice.
func count(n node) int64 {
	if !n.is(kindNumber) {
		return -1
	}
	v, err := strconv.ParseInt(n.v.text, 10, 64)
	if err != nil {
		return -1
	}
	return v
}

func (im *importer) readZoneLink(o, body node) {
	before := len(im.c.problems)
	obj := common(o, "")
	l := &zoneLink{object: obj, zoneKey: below(o, obj, "privateDnsZones", "virtualNetworkLinks"), policy: "Default"}
	if obj.name != "" {
		if err := checkResourceName(obj.name); err != nil {
			o.get("name").errorf("%v", err)
		}
	}
	vn := body.get("virtualNetwork").get("id")
	l.vnetID, l.vnetAt = vn.str(true), vn.at()
	reg := body.get("registrationEnabled")
	l.registration, l.regAt = reg.boolean(), reg.at()
	if p := body.get("resolutionPolicy"); p.present() {
		switch s := p.str(false); {
		case strings.EqualFold(s, "Default"):
		case strings.EqualFold(s, "NxDomainRedirect"):
			l.policy = "NxDomainRedirect"
		case p.is(kindString):
			p.errorf("privdns cannot hold resolution policy %q: want Default or NxDomainRedirect", s)
		}
	}
	if len(im.c.problems) == before {
		content := fmt.Sprint(l.zoneKey, idKey(l.vnetID), l.policy, l.registration)
		im.e.add(im, obj, content, func() { im.e.links = append(im.e.links, l) })
	}
}

func (im *importer) readRuleset(o node) {
	before := len(im.c.problems)
	obj := common(o, "dnsForwardingRulesets")
	if obj.name != "" {
		if err := checkResourceName(obj.name); err != nil {
			o.get("name").errorf("%v", err)
		}
	}
	rs := &ruleset{object: obj, rg: resourceGroup(obj.id)}
	if len(im.c.problems) == before {
		im.e.add(im, obj, "", func() { im.e.rulesets = append(im.e.rulesets, rs) })
	}
}

func (im *importer) readRule(o, body node) {
	before := len(im.c.problems)
	obj := common(o, "")
	r := &rule{object: obj, rulesetKey: below(o, obj, "dnsForwardingRulesets", "forwardingRules"), state: "Enabled"}
	d := body.get("domainName")
	r.domainAt = d.at()
	if s := d.str(true); s != "" {
		domain, err := domainName(s, true, false)
		if err != nil {
			d.errorf("%v", err)
		}
		r.domain = domain
	}
	targets := body.get("targetDnsServers")
	if !targets.present() || targets.is(kindArray) && len(targets.v.arr) == 0 {
		targets.errorf("required: at least one target DNS server")
	}
	for _, t := range targets.items() {
		addr := t.get("ipAddress")
		s := addr.str(true)
		ip, err := netip.ParseAddr(s)
		if s != "" && (err != nil || ip.Zone() != "") {
			addr.errorf("%q is not an IP address", s)
		}
		port := int64(53)
		if p := t.get("port"); p.present() {
			port, _ = p.integer(true, 1, 65535)
		}
		r.targets = append(r.targets, netip.AddrPortFrom(ip.Unmap(), uint16(port)).String())
	}
	if st := body.get("forwardingRuleState"); st.present() {
		switch s := st.str(false); {
		case strings.EqualFold(s, "Enabled"):
		case strings.EqualFold(s, "Disabled"):
			r.state = "Disabled"
		case st.is(kindString):
			st.errorf("privdns cannot hold rule state %q: want Enabled or Disabled", s)
		}
	}
	if len(im.c.problems) == before {
		im.e.add(im, obj, fmt.Sprint(r.rulesetKey, r.domain, r.targets, r.state), func() { im.e.rules = append(im.e.rules, r) })
	}
}

func (im *importer) readRulesetLink(o, body node) {
	before := len(im.c.problems)
	obj := common(o, "")
	vn := body.get("virtualNetwork").get("id")
	l := &rulesetLink{object: obj, rulesetKey: below(o, obj, "dnsForwardingRulesets", "virtualNetworkLinks"), vnetID: vn.str(true), vnetAt: vn.at()}
	if len(im.c.problems) == before {
		im.e.add(im, obj, fmt.Sprint(l.rulesetKey, idKey(l.vnetID)), func() { im.e.rsLinks = append(im.e.rsLinks, l) })
	}
}
