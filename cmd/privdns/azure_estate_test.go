package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// azureEstate is what a fixture folder says, read here on its own (plain
// encoding/json, both shapes) so the round trip checks the importer against
// the fixture rather than against itself.
type azureEstate struct {
	vnets map[string]azureVNet   // lower-cased id →
	zones map[string]string      // lower-cased zone id → zone name
	links map[string][]azureLink // lower-cased zone id →
	sets  []azureSet
}

type azureVNet struct{ name, rg string }

// azureLink is a zone link; vnet is the lower-cased VNet id.
type azureLink struct{ vnet, name, policy string }

type azureSet struct {
	zoneID, name, typ string
	ttl               uint32
	want              []string // each record's data as miekg prints it; TXT strings joined
}

func readAzureEstate(t *testing.T, dir string) *azureEstate {
	t.Helper()
	e := &azureEstate{vnets: map[string]azureVNet{}, zones: map[string]string{}, links: map[string][]azureLink{}}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".json" {
			return err
		}
		data, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			return err
		}
		var top any
		if err := json.Unmarshal(data, &top); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		list, ok := top.([]any)
		if m, isMap := top.(map[string]any); isMap {
			list = m["value"].([]any)
		} else if !ok {
			return fmt.Errorf("%s: not a list", p)
		}
		for _, item := range list {
			e.add(item.(map[string]any))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *azureEstate) add(o map[string]any) {
	id, name, typ := o["id"].(string), o["name"].(string), strings.ToLower(o["type"].(string))
	body := o
	if p, ok := o["properties"].(map[string]any); ok {
		body = p
	}
	zoneOf := func(id string) string {
		i := strings.Index(strings.ToLower(id), "/privatednszones/")
		rest := id[i+len("/privatednszones/"):]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			rest = rest[:j]
		}
		return strings.ToLower(id[:i+len("/privatednszones/")] + rest)
	}
	switch {
	case typ == "microsoft.network/virtualnetworks":
		e.vnets[strings.ToLower(id)] = azureVNet{name: name, rg: strings.Split(id, "/")[4]}
	case typ == "microsoft.network/privatednszones":
		e.zones[strings.ToLower(id)] = name
	case typ == "microsoft.network/privatednszones/virtualnetworklinks":
		vnet := body["virtualNetwork"].(map[string]any)["id"].(string)
		policy, _ := body["resolutionPolicy"].(string)
		if policy == "" {
			policy = "Default"
		}
		e.links[zoneOf(id)] = append(e.links[zoneOf(id)], azureLink{strings.ToLower(vnet), name, policy})
	case strings.HasPrefix(typ, "microsoft.network/privatednszones/"):
		s := azureSet{zoneID: zoneOf(id), name: name, typ: strings.ToUpper(typ[strings.LastIndexByte(typ, '/')+1:]), ttl: uint32(body["ttl"].(float64))}
		s.want = recordData(s.typ, body)
		e.sets = append(e.sets, s)
	}
}

func fqdn(s string) string { return dns.Fqdn(strings.ToLower(s)) }

func recordData(typ string, body map[string]any) []string {
	items := func(key string) []map[string]any {
		var out []map[string]any
		list, _ := body[key].([]any)
		for _, it := range list {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	num := func(m map[string]any, k string) int { return int(m[k].(float64)) }
	var out []string
	switch typ {
	case "A":
		for _, r := range items("aRecords") {
			out = append(out, r["ipv4Address"].(string))
		}
	case "AAAA":
		for _, r := range items("aaaaRecords") {
			out = append(out, netip.MustParseAddr(r["ipv6Address"].(string)).String())
		}
	case "CNAME":
		out = append(out, fqdn(body["cnameRecord"].(map[string]any)["cname"].(string)))
	case "MX":
		for _, r := range items("mxRecords") {
			out = append(out, fmt.Sprintf("%d %s", num(r, "preference"), fqdn(r["exchange"].(string))))
		}
	case "PTR":
		for _, r := range items("ptrRecords") {
			out = append(out, fqdn(r["ptrdname"].(string)))
		}
	case "SRV":
		for _, r := range items("srvRecords") {
			out = append(out, fmt.Sprintf("%d %d %d %s", num(r, "priority"), num(r, "weight"), num(r, "port"), fqdn(r["target"].(string))))
		}
	case "TXT":
		for _, r := range items("txtRecords") {
			var joined string
			for _, s := range r["value"].([]any) {
				joined += s.(string)
			}
			out = append(out, joined)
		}
	case "SOA":
		s := body["soaRecord"].(map[string]any)
		out = append(out, fmt.Sprintf("%s %s %d %d %d %d %d", fqdn(s["host"].(string)), fqdn(s["email"].(string)),
			num(s, "serialNumber"), num(s, "refreshTime"), num(s, "retryTime"), num(s, "expireTime"), num(s, "minimumTtl")))
	}
	slices.Sort(out)
	return out
}

// linked returns the link of zone zoneID to vnet, or nil.
func (e *azureEstate) linked(zoneID, vnet string) *azureLink {
	for i, l := range e.links[zoneID] {
		if l.vnet == vnet {
			return &e.links[zoneID][i]
		}
	}
	return nil
}

// covered reports whether a zone linked to vnet holds qname.
func (e *azureEstate) covered(vnet, qname string) bool {
	for zid := range e.links {
		if e.linked(zid, vnet) != nil && dns.IsSubDomain(fqdn(e.zones[zid]), qname) {
			return true
		}
	}
	return false
}

// qname is the name to ask for the record set: a wildcard's "*" becomes
// a label of its own.
func (s azureSet) qname(e *azureEstate) string {
	zone := fqdn(e.zones[s.zoneID])
	if s.name == "@" {
		return zone
	}
	return strings.Replace(s.name, "*", "wildcard-probe", 1) + "." + zone
}

// networkName is SPEC §7's naming: the VNet's name, or
// RESOURCEGROUP-NAME lower-cased when two VNets share a name.
func (e *azureEstate) networkName(id string) string {
	v := e.vnets[id]
	for other, w := range e.vnets {
		if other != id && strings.EqualFold(w.name, v.name) {
			return strings.ToLower(v.rg + "-" + v.name)
		}
	}
	return v.name
}

// answerData prints an answer's records of type qtype as recordData does,
// checking owner and TTL; TXT strings are joined and each must fit 255
// bytes.
func answerData(t *testing.T, m *dns.Msg, qname string, qtype uint16, ttl uint32) []string {
	t.Helper()
	var out []string
	for _, rr := range m.Answer {
		h := rr.Header()
		if h.Rrtype != qtype {
			continue
		}
		if !strings.EqualFold(h.Name, qname) || h.Ttl != ttl {
			t.Errorf("%s: owner %s TTL %d, want %s TTL %d", qname, h.Name, h.Ttl, qname, ttl)
		}
		if txt, ok := rr.(*dns.TXT); ok {
			var joined strings.Builder
			for _, s := range txt.Txt {
				raw, err := unescapeTXT(s)
				if err != nil || len(raw) > 255 {
					t.Errorf("%s: TXT string of %d bytes (%v)", qname, len(raw), err)
				}
				joined.WriteString(raw)
			}
			out = append(out, joined.String())
			continue
		}
		out = append(out, strings.TrimPrefix(rr.String(), h.String()))
	}
	slices.Sort(out)
	return out
}

// unescapeTXT undoes miekg's presentation escapes of a TXT string.
func unescapeTXT(s string) (string, error) {
	rr, err := dns.NewRR(`x. 1 IN TXT "` + s + `"`)
	if err != nil {
		return "", err
	}
	msg := make([]byte, 512+len(s)*4)
	n, err := dns.PackRR(rr, msg, 0, nil, false)
	if err != nil {
		return "", err
	}
	rdata := msg[n-int(rr.Header().Rdlength) : n]
	return string(rdata[1 : 1+int(rdata[0])]), nil
}
