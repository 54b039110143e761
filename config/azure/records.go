package azure

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// recordTypes maps the last part of a record set's type
// ("Microsoft.Network/privateDnsZones/A"), lower-cased, to its DNS type:
// the types Azure Private DNS holds.
var recordTypes = map[string]uint16{
	"a": dns.TypeA, "aaaa": dns.TypeAAAA, "cname": dns.TypeCNAME, "mx": dns.TypeMX,
	"ptr": dns.TypePTR, "soa": dns.TypeSOA, "srv": dns.TypeSRV, "txt": dns.TypeTXT,
}

// maxTTL is the largest TTL RFC 2181 §8 allows; Azure takes none larger.
const maxTTL = 1<<31 - 1

// maxTXTString is the length of one string of a TXT record on the wire.
const maxTXTString = 255

type recordSet struct {
	object
	zoneKey string
	rtype   uint16
	ttl     uint32
	auto    bool     // isAutoRegistered
	rdata   []string // master-file text of each record's data, sorted
}

// readRecordSet reads a record set of one of recordTypes; its records are
// kept as master-file text, which is what the zone file holds.
func (im *importer) readRecordSet(o, body node, rtype uint16) {
	before := len(im.c.problems)
	obj := common(o, "")
	rs := &recordSet{object: obj, rtype: rtype}
	zk, ok := parentID(obj.id, "privateDnsZones")
	if obj.id != "" && (!ok || zk == obj.key()) {
		o.get("id").errorf("%q is not the id of a record set of a private DNS zone (…/privateDnsZones/ZONE/TYPE/NAME)", obj.id)
	}
	rs.zoneKey = zk
	if obj.name != "" {
		zone := zk[strings.LastIndexByte(zk, '/')+1:]
		if err := ownerName(obj.name, zone); err != nil {
			o.get("name").errorf("%v", err)
		}
		if rtype == dns.TypeSOA && obj.name != "@" {
			o.get("name").errorf("an SOA record set is named @ (the apex), not %q", obj.name)
		}
	}
	if ttl, ok := body.get("ttl").integer(true, 0, maxTTL); ok {
		rs.ttl = uint32(ttl)
	}
	rs.auto = body.get("isAutoRegistered").boolean()
	rs.rdata = readRecords(body, rtype)
	slices.Sort(rs.rdata)
	if len(im.c.problems) == before {
		content := fmt.Sprint(strings.ToLower(obj.name), rs.ttl, rs.auto, rs.rdata)
		im.e.add(im, obj, content, func() { im.e.sets = append(im.e.sets, rs) })
	}
}

// readRecords returns the data of each record of the set.
func readRecords(body node, rtype uint16) []string {
	var out []string
	each := func(key string, f func(item node) string) {
		for _, item := range body.get(key).items() {
			if !item.is(kindObject) {
				item.errorf("must be an object, not %s", item.describe())
				continue
			}
			if s := f(item); s != "" {
				out = append(out, s)
			}
		}
	}
	switch rtype {
	case dns.TypeA:
		each("aRecords", func(r node) string { return address(r.get("ipv4Address"), true) })
	case dns.TypeAAAA:
		each("aaaaRecords", func(r node) string { return address(r.get("ipv6Address"), false) })
	case dns.TypeCNAME:
		if c := body.get("cnameRecord"); c.present() {
			if !c.is(kindObject) {
				c.errorf("must be an object, not %s", c.describe())
				break
			}
			if s := name(c.get("cname"), false); s != "" {
				out = append(out, s)
			}
		}
	case dns.TypeMX:
		each("mxRecords", func(r node) string {
			return join(uint16Of(r.get("preference")), name(r.get("exchange"), true))
		})
	case dns.TypePTR:
		each("ptrRecords", func(r node) string { return name(r.get("ptrdname"), false) })
	case dns.TypeSRV:
		each("srvRecords", func(r node) string {
			return join(uint16Of(r.get("priority")), uint16Of(r.get("weight")), uint16Of(r.get("port")), name(r.get("target"), true))
		})
	case dns.TypeTXT:
		each("txtRecords", txt)
	case dns.TypeSOA:
		if s := soa(body.get("soaRecord")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// join joins the fields of one record's data, or returns "" when one of
// them was bad (and reported).
func join(fields ...string) string {
	if slices.Contains(fields, "") {
		return ""
	}
	return strings.Join(fields, " ")
}

func address(n node, v4 bool) string {
	s := n.str(true)
	if s == "" {
		return ""
	}
	ip, err := netip.ParseAddr(s)
	switch {
	case err != nil || ip.Zone() != "":
		n.errorf("%q is not an IP address", s)
		return ""
	case v4 && !ip.Is4():
		n.errorf("%q is not an IPv4 address", s)
		return ""
	case !v4 && !ip.Is6():
		n.errorf("%q is not an IPv6 address", s)
		return ""
	}
	return ip.String()
}

// name reads a name of record data as an absolute name.
func name(n node, root bool) string {
	s := n.str(true)
	if s == "" {
		return ""
	}
	fqdn, err := targetName(s, root)
	if err != nil {
		n.errorf("%v", err)
		return ""
	}
	return fqdn
}

func uint16Of(n node) string {
	v, ok := n.integer(true, 0, 1<<16-1)
	if !ok {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func uint32Of(n node) string {
	v, ok := n.integer(true, 0, 1<<32-1)
	if !ok {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// txt reads one TXT record: its strings, each split into pieces of at most
// 255 bytes as Azure splits longer values (clients join them again).
func txt(r node) string {
	v := r.get("value")
	if !v.present() {
		v.errorf("required")
		return ""
	}
	var pieces []string
	for _, s := range v.items() {
		if !s.is(kindString) {
			s.errorf("must be a string, not %s", s.describe())
			return ""
		}
		for _, p := range splitTXT(s.v.text) {
			pieces = append(pieces, quoteTXT(p))
		}
	}
	if len(pieces) == 0 { // a TXT record holds at least one string
		return `""`
	}
	return strings.Join(pieces, " ")
}

// splitTXT cuts s into pieces of at most 255 bytes, between characters.
func splitTXT(s string) []string {
	var out []string
	for len(s) > maxTXTString {
		cut := maxTXTString
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			cut = maxTXTString
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}

// quoteTXT writes one character string in master-file syntax: quoted, with
// '"' and '\' escaped and every byte outside printable ASCII as \DDD.
func quoteTXT(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func soa(n node) string {
	if !n.present() {
		n.errorf("required")
		return ""
	}
	if !n.is(kindObject) {
		n.errorf("must be an object, not %s", n.describe())
		return ""
	}
	return join(name(n.get("host"), false), email(n.get("email")),
		uint32Of(n.get("serialNumber")), uint32Of(n.get("refreshTime")), uint32Of(n.get("retryTime")),
		uint32Of(n.get("expireTime")), uint32Of(n.get("minimumTtl")))
}

// email reads an SOA's mailbox, written as a name
// ("azureprivatedns-host.microsoft.com"); "user@example.com" is read as
// user.example.com.
func email(n node) string {
	s := n.str(true)
	if local, domain, ok := strings.Cut(s, "@"); ok && !strings.Contains(local, ".") {
		s = local + "." + domain
	}
	if s == "" {
		return ""
	}
	fqdn, err := targetName(s, false)
	if err != nil {
		n.errorf("%v", err)
		return ""
	}
	return fqdn
}
