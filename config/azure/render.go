package azure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// ConfigFile is the name of the configuration Import writes.
const ConfigFile = "privdns.yaml"

// render writes the plan as privdns.yaml and one zone file per zone, and
// returns the files with a summary line per zone.
func (im *importer) render(p *plan) (map[string][]byte, []string) {
	files := map[string][]byte{}
	var summary []string
	for _, oz := range p.zones {
		files[oz.file] = im.zoneFile(oz)
		summary = append(summary, zoneSummary(oz))
	}
	files[ConfigFile] = im.configFile(p)
	return files, summary
}

func zoneSummary(oz *outZone) string {
	sets := plural(oz.written, "record set")
	switch {
	case oz.autoSkips > 0:
		sets += fmt.Sprintf(" (%d auto-registered left out)", oz.autoSkips)
	case oz.auto > 0:
		sets += fmt.Sprintf(" (%d auto-registered)", oz.auto)
	}
	return fmt.Sprintf("zone %s (resource group %s): %s, %s -> %s", oz.z.fqdn, oz.z.rg, sets, plural(len(oz.links), "link"), oz.file)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// zoneFile writes a zone's record sets in master-file syntax, names
// relative to the zone, in DNS order with the SOA first.
func (im *importer) zoneFile(oz *outZone) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "; %s, imported from Azure Private DNS by `privdns import azure`.\n", oz.z.fqdn)
	fmt.Fprintf(&b, "; %s\n", oz.z.id)
	fmt.Fprintf(&b, "$ORIGIN %s.\n", oz.z.fqdn)
	for _, rs := range oz.sets {
		switch {
		case rs.auto && im.opts.SkipAutoregistered:
			oz.autoSkips++
			continue
		case len(rs.rdata) == 0:
			im.c.noticef("%s: record set %s (%s) of zone %s holds no records: left out, so its name answers NXDOMAIN, not NODATA as in Azure, unless other records are there", rs.at, rs.name, typeName(rs.rtype), oz.z.fqdn)
			continue
		case rs.auto:
			oz.auto++
		}
		oz.written++
		for _, rdata := range rs.rdata {
			fmt.Fprintf(&b, "%s\t%d\tIN\t%s\t%s", rs.name, rs.ttl, typeName(rs.rtype), rdata)
			if rs.auto {
				b.WriteString("\t; auto-registered by Azure")
			}
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// configFile writes privdns.yaml. Every string is quoted, so no name can
// read as a YAML number or boolean.
func (im *importer) configFile(p *plan) []byte {
	var b bytes.Buffer
	b.WriteString("# privdns configuration imported from Azure by `privdns import azure`.\n")
	b.WriteString("# server.listeners is not set: privdns listens on its default address until it\n")
	b.WriteString("# names the addresses your virtual networks use as their DNS server.\n")
	if p.dataDir {
		fmt.Fprintf(&b, "server:\n  dataDir: %s   # registration-enabled links keep registrations here\n", quote(im.opts.DataDir))
	}
	if len(im.opts.Upstreams) > 0 {
		fmt.Fprintf(&b, "upstreams:\n  servers: %s\n", quoteList(im.opts.Upstreams))
	}
	writeNetworks(&b, p.networks)
	writeZones(&b, p.zones)
	writeRulesets(&b, p.rulesets)
	return b.Bytes()
}

// emptyList ends a list's key line: " []" when it has no items.
func emptyList(b *bytes.Buffer, n int) {
	if n == 0 {
		b.WriteString(" []")
	}
	b.WriteByte('\n')
}

func writeNetworks(b *bytes.Buffer, networks []*outNetwork) {
	b.WriteString("networks:")
	emptyList(b, len(networks))
	for _, n := range networks {
		prefixes := make([]string, len(n.prefixes))
		for i, pfx := range n.prefixes {
			prefixes[i] = pfx.String()
		}
		fmt.Fprintf(b, "  # %s\n  - name: %s\n    addressPrefixes: %s\n", n.id, quote(n.name), quoteList(prefixes))
	}
}

func writeZones(b *bytes.Buffer, zones []*outZone) {
	b.WriteString("zones:")
	emptyList(b, len(zones))
	for _, oz := range zones {
		fmt.Fprintf(b, "  # %s\n  - name: %s\n    file: %s\n    links:", oz.z.id, quote(oz.z.fqdn), quote(oz.file))
		emptyList(b, len(oz.links))
		for _, l := range oz.links {
			fmt.Fprintf(b, "      - name: %s\n        network: %s\n        resolutionPolicy: %s\n        registrationEnabled: %t\n",
				quote(l.name), quote(l.network), quote(l.policy), l.registration)
		}
	}
}

func writeRulesets(b *bytes.Buffer, rulesets []*outRuleset) {
	if len(rulesets) > 0 {
		b.WriteString("forwardingRulesets:\n")
	}
	for _, o := range rulesets {
		fmt.Fprintf(b, "  # %s\n  - name: %s\n    networks: %s\n    rules:", o.rs.id, quote(o.name), quoteList(o.networks))
		emptyList(b, len(o.rules))
		for _, r := range o.rules {
			fmt.Fprintf(b, "      - domain: %s\n        targets: %s\n        state: %s\n", quote(r.domain), quoteList(r.targets), quote(r.state))
		}
	}
}

// quote writes s as a double-quoted scalar: JSON's quoting, which YAML
// reads the same way.
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) //nolint:errcheck // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
