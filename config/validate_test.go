package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// withMinimal appends lines to the minimal configuration, whose 7 lines
// hold upstreams and the networks net-a and net-b: appended lines start at
// line 8.
func withMinimal(ls ...string) string { return minimal + lines(ls...) }

// networksWith is a whole configuration with the given networks section.
func networksWith(ls ...string) string {
	return lines(append([]string{"upstreams: {servers: [192.0.2.53]}", "networks:"}, ls...)...)
}

// zoneWithLinks is the minimal configuration plus zone z.example (line 9)
// whose links start at line 11.
func zoneWithLinks(ls ...string) string {
	return withMinimal(append([]string{"zones:", "  - name: z.example", "    links:"}, ls...)...)
}

// rulesWith is the minimal configuration plus ruleset rs (line 9) whose
// rules start at line 12.
func rulesWith(ls ...string) string {
	return withMinimal(append([]string{"forwardingRulesets:", "  - name: rs", "    networks: [net-a]", "    rules:"}, ls...)...)
}

func TestEachValidationRuleNamesFileLineAndKey(t *testing.T) {
	long := strings.Repeat("n", 81)
	cases := []struct {
		name    string
		config  string
		zone    string // content of zones/z.zone, if any
		file    string // file the problem is in, relative to the folder; "" = privdns.yaml
		line    int
		key     string
		wantMsg string
	}{
		// keys and types
		{name: "unknown top-level key", config: withMinimal("serverr:", "  http: 127.0.0.1:1"), line: 8, key: "serverr", wantMsg: "unknown key (did you mean server?)"},
		{name: "unknown key keeps its spelling", config: zoneWithLinks("      - {name: l, network: net-a}", "      - name: l2", "        network: net-b", "        resolutionPolicy2: Default"), line: 14, key: "zones[0].links[1].resolutionPolicy2", wantMsg: "unknown key (did you mean resolutionPolicy?)"},
		{name: "unknown key with null value", config: withMinimal("zone:"), line: 8, key: "zone", wantMsg: "unknown key"},
		{name: "mapping expected", config: withMinimal("server: [a]"), line: 8, key: "server", wantMsg: "must be a mapping"},
		{name: "boolean expected", config: withMinimal("server:", "  explain: maybe"), line: 9, key: "server.explain", wantMsg: "must be true or false"},
		{name: "integer expected", config: withMinimal("cache:", "  maxEntries: 1.5"), line: 9, key: "cache.maxEntries", wantMsg: "must be an integer"},
		{name: "list expected", config: networksWith("  - name: n", "    addressPrefixes: 10.0.0.0/8"), line: 4, key: "networks[0].addressPrefixes", wantMsg: "must be a list"},
		{name: "bad duration", config: withMinimal("cache:", "  maxTTL: 1 day"), line: 9, key: "cache.maxTTL", wantMsg: "must be a duration"},
		{name: "duration without unit", config: withMinimal("cache:", "  serveStale: {answerTTL: 30}"), line: 9, key: "cache.serveStale.answerTTL", wantMsg: "must be a duration"},

		// names
		{name: "bad zone name", config: withMinimal("zones:", "  - name: bad name.example"), line: 9, key: "zones[0].name", wantMsg: "not a DNS name"},
		{name: "root zone", config: withMinimal("zones:", "  - name: ."), line: 9, key: "zones[0].name", wantMsg: "root zone is not allowed"},
		{name: "zone name required", config: withMinimal("zones:", "  - file: z.zone"), line: 9, key: "zones[0].name", wantMsg: "required"},
		{name: "bad network name", config: networksWith("  - name: net/a"), line: 3, key: "networks[0].name", wantMsg: "only letters, digits"},
		{name: "network name too long", config: networksWith("  - name: " + long), line: 3, key: "networks[0].name", wantMsg: "longer than 80"},
		{name: "bad link name", config: zoneWithLinks("      - {name: 'l k', network: net-a}"), line: 11, key: "zones[0].links[0].name", wantMsg: "only letters"},
		{name: "bad ruleset name", config: withMinimal("forwardingRulesets:", "  - name: ''"), line: 9, key: "forwardingRulesets[0].name", wantMsg: "required"},

		// networks
		{name: "bad CIDR", config: networksWith("  - name: n", "    addressPrefixes:", "      - 10.0.0.0/8", "      - 10.0.0.0/33"), line: 6, key: "networks[0].addressPrefixes[1]", wantMsg: "not a CIDR prefix"},
		{name: "same prefix in two networks", config: networksWith("  - {name: a, addressPrefixes: [10.0.0.0/8]}", "  - {name: b, addressPrefixes: [10.0.0.1/8]}"), line: 4, key: "networks[1].addressPrefixes[0]", wantMsg: `already a prefix of network "a"`},
		{name: "duplicate network name", config: networksWith("  - name: hub", "  - name: HUB"), line: 4, key: "networks[1].name", wantMsg: "declared twice"},

		// zones and links
		{name: "two zones of one name on one network", config: withMinimal("zones:", "  - {name: z.example, links: [{name: a, network: net-a}]}", "  - name: Z.example.", "    links: [{name: b, network: NET-A}]"), line: 11, key: "zones[1].links[0].network", wantMsg: "cannot be linked to two zones with the same name"},
		{name: "zone linked twice to one network", config: zoneWithLinks("      - {name: a, network: net-a}", "      - {name: b, network: net-a}"), line: 12, key: "zones[0].links[1].network", wantMsg: "already linked to this zone (zones[0].links[0]): one link per network"},
		{name: "duplicate link name", config: zoneWithLinks("      - {name: l, network: net-a}", "      - {name: L, network: net-b}"), line: 12, key: "zones[0].links[1].name", wantMsg: "already has a link named"},
		{name: "link to unknown network", config: zoneWithLinks("      - {name: l, network: net-c}"), line: 11, key: "zones[0].links[0].network", wantMsg: `unknown network "net-c"`},
		{name: "link without network", config: zoneWithLinks("      - {name: l}"), line: 11, key: "zones[0].links[0].network", wantMsg: "required"},
		{name: "two registration links on one network", config: withMinimal("server: {dataDir: data}", "zones:", "  - {name: a.example, links: [{name: l, network: net-a, registrationEnabled: true}]}", "  - name: b.example", "    links:", "      - name: l", "        network: net-a", "        registrationEnabled: true"), line: 15, key: "zones[1].links[0].registrationEnabled", wantMsg: "already has a registration-enabled link"},
		{name: "bad resolution policy", config: zoneWithLinks("      - {name: l, network: net-a, resolutionPolicy: Fallback}"), line: 11, key: "zones[0].links[0].resolutionPolicy", wantMsg: "not one of Default, NxDomainRedirect"},
		{name: "bad fallback type", config: zoneWithLinks("      - name: l", "        network: net-a", "        fallbackTypes: [A, AAAAA]"), line: 13, key: "zones[0].links[0].fallbackTypes[1]", wantMsg: "not a DNS record type"},

		// zone contents
		{name: "zone file syntax error", config: withMinimal("zones:", "  - {name: z.example, file: zones/z.zone}"), zone: "a 60 IN A 10.0.0.1\nb 60 IN A not-an-address\n", file: "zones/z.zone", line: 2, key: "zones[0].file", wantMsg: "A"},
		{name: "zone file missing", config: withMinimal("zones:", "  - {name: z.example, file: zones/absent.zone}"), line: 9, key: "zones[0].file", wantMsg: "zones/absent.zone: no such file or directory"},
		{name: "bad inline record", config: withMinimal("zones:", "  - name: z.example", "    records:", "      - a 60 IN A 10.0.0.1", "      - b 60 IN A 10.0.0"), line: 12, key: "zones[0].records[1]", wantMsg: "A"},
		{name: "CNAME at the apex", config: withMinimal("zones:", "  - name: z.example", "    records:", "      - '@ 60 IN CNAME other.example.'"), line: 11, key: "zones[0].records[0]", wantMsg: "CNAME"},

		// server
		{name: "listener not host:port", config: withMinimal("server:", "  listeners:", "    - address: 127.0.0.1"), line: 10, key: "server.listeners[0].address", wantMsg: "not ip:port"},
		{name: "listener host not an IP", config: withMinimal("server:", "  listeners:", "    - address: localhost:53"), line: 10, key: "server.listeners[0].address", wantMsg: "not an IP address"},
		{name: "duplicate listener", config: withMinimal("server:", "  listeners:", "    - address: 127.0.0.1:53", "    - address: 127.0.0.1:053"), line: 11, key: "server.listeners[1].address", wantMsg: "already a listener"},
		{name: "a specific listener next to a wildcard one on its port", config: withMinimal("server:", "  listeners:", "    - address: 0.0.0.0:53", "    - address: 10.0.0.4:53", "      network: net-a"), line: 11, key: "server.listeners[1].address", wantMsg: "cannot be bound next to 0.0.0.0:53"},
		{name: "two wildcard listeners on one port", config: withMinimal("server:", "  listeners:", "    - address: :53", "    - address: 0.0.0.0:53"), line: 11, key: "server.listeners[1].address", wantMsg: "both take every address on port 53"},
		{name: "listener network unknown", config: withMinimal("server:", "  listeners:", "    - address: 127.0.0.1:53", "      network: net-c"), line: 11, key: "server.listeners[0].network", wantMsg: "unknown network"},
		{name: "unknown clients neither refuse nor a network", config: withMinimal("server:", "  unknownClients: allow"), line: 9, key: "server.unknownClients", wantMsg: "neither refuse nor a network"},
		{name: "bad http address", config: withMinimal("server:", "  http: 9153"), line: 9, key: "server.http", wantMsg: "not host:port"},
		{name: "bad log level", config: withMinimal("server:", "  log: {level: trace}"), line: 9, key: "server.log.level", wantMsg: "not one of debug, info, warn, error"},
		{name: "bad log format", config: withMinimal("server:", "  log:", "    format: xml"), line: 10, key: "server.log.format", wantMsg: "not one of text, json"},
		{name: "query sampling above 1", config: withMinimal("server:", "  log:", "    querySampling: 1.5"), line: 10, key: "server.log.querySampling", wantMsg: "outside [0, 1]"},

		// upstreams
		{name: "an empty upstream list", config: lines("upstreams:", "  servers: []"), line: 2, key: "upstreams.servers", wantMsg: "at least one upstream required"},
		{name: "upstream with unsupported scheme", config: lines("upstreams:", "  servers:", "    - 192.0.2.1", "    - https://dns.example/dns-query"), line: 4, key: "upstreams.servers[1]", wantMsg: "only plain host:port"},
		{name: "upstream with bad port", config: lines("upstreams:", "  servers: [192.0.2.1:65536]"), line: 2, key: "upstreams.servers[0]", wantMsg: "bad port"},
		{name: "upstream with unclosed bracket", config: lines("upstreams:", "  servers: ['[2001:db8::1']"), line: 2, key: "upstreams.servers[0]", wantMsg: "not host:port"},
		{name: "upstream TLS with bad server name", config: lines("upstreams:", "  servers: ['tls://192.0.2.1#bad name']"), line: 2, key: "upstreams.servers[0]", wantMsg: "bad TLS server name"},
		{name: "duplicate upstream", config: lines("upstreams:", "  servers: [192.0.2.1, '192.0.2.1:53']"), line: 2, key: "upstreams.servers[1]", wantMsg: "listed twice"},
		{name: "upstream given by host name", config: lines("upstreams:", "  servers: [dns.example.com]"), line: 2, key: "upstreams.servers[0]", wantMsg: "want an IP address"},
		{name: "TLS upstream given by host name", config: lines("upstreams:", "  servers: ['tls://dns.example.com:853#dns.example.com']"), line: 2, key: "upstreams.servers[0]", wantMsg: "want an IP address"},
		{name: "bad policy", config: lines("upstreams:", "  servers: [192.0.2.1]", "  policy: fastest"), line: 3, key: "upstreams.policy", wantMsg: "not one of sequential, random, roundRobin"},
		{name: "zero timeout", config: lines("upstreams:", "  servers: [192.0.2.1]", "  timeout: 0s"), line: 3, key: "upstreams.timeout", wantMsg: "must be positive"},
		{name: "nanosecond timeout", config: lines("upstreams:", "  servers: [192.0.2.1]", "  timeout: 1ns"), line: 3, key: "upstreams.timeout", wantMsg: "at least 1ms"},

		// forwarding rulesets
		{name: "ruleset network unknown", config: withMinimal("forwardingRulesets:", "  - name: rs", "    networks: [net-a, net-z]"), line: 10, key: "forwardingRulesets[0].networks[1]", wantMsg: "unknown network"},
		{name: "bad rule domain", config: rulesWith("      - {domain: 'corp..example', targets: [10.0.0.1]}"), line: 12, key: "forwardingRulesets[0].rules[0].domain", wantMsg: "empty label"},
		{name: "one domain forwarded to one network by two rulesets", config: rulesWith(
			"      - {domain: corp.example, targets: [10.0.0.1]}",
			"  - name: rs2",
			"    networks: [net-a]",
			"    rules:",
			"      - {domain: corp.example., targets: [10.0.0.2]}"), line: 16, key: "forwardingRulesets[1].rules[0].domain", wantMsg: "network net-a already forwards corp.example. through ruleset rs"},
		{name: "duplicate rule domain", config: rulesWith("      - {domain: corp.example, targets: [10.0.0.1]}", "      - {domain: CORP.example., targets: [10.0.0.2]}"), line: 13, key: "forwardingRulesets[0].rules[1].domain", wantMsg: "already has a rule for corp.example."},
		{name: "rule without targets", config: rulesWith("      - domain: corp.example", "        targets: []"), line: 13, key: "forwardingRulesets[0].rules[0].targets", wantMsg: "at least one target"},
		{name: "malformed rule target", config: rulesWith("      - domain: corp.example", "        targets:", "          - 10.0.0.1", "          - 10.0.0.2:x"), line: 15, key: "forwardingRulesets[0].rules[0].targets[1]", wantMsg: "bad port"},
		{name: "bad rule state", config: rulesWith("      - {domain: corp.example, targets: [10.0.0.1], state: Off}"), line: 12, key: "forwardingRulesets[0].rules[0].state", wantMsg: "not one of Enabled, Disabled"},

		// cache
		{name: "negative max entries", config: withMinimal("cache:", "  maxEntries: -1"), line: 9, key: "cache.maxEntries", wantMsg: "must not be negative"},
		{name: "min TTL above max TTL", config: withMinimal("cache:", "  minTTL: 2h", "  maxTTL: 1h"), line: 9, key: "cache.minTTL", wantMsg: "greater than cache.maxTTL"},
		{name: "negative duration", config: withMinimal("cache:", "  maxNegativeTTL: -1s"), line: 9, key: "cache.maxNegativeTTL", wantMsg: "must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"privdns.yaml": c.config}
			if c.zone != "" {
				files["zones/z.zone"] = c.zone
			}
			dir := writeFiles(t, files)
			errs := problemsOf(t, filepath.Join(dir, "privdns.yaml"))
			wantFile := filepath.Join(dir, "privdns.yaml")
			if c.file != "" {
				wantFile = filepath.Join(dir, c.file)
			}
			if len(errs) != 1 {
				t.Fatalf("got %d problems, want exactly one:\n%v", len(errs), errs)
			}
			p := errs[0]
			if p.File != wantFile || p.Line != c.line || p.Key != c.key || !strings.Contains(p.Msg, c.wantMsg) {
				t.Errorf("problem = %q\nwant %s:%d: %s: …%s…", p.Error(), wantFile, c.line, c.key, c.wantMsg)
			}
		})
	}
}

func TestEveryProblemIsReportedInLineOrder(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": lines(
		"server:",
		"  log: {level: loud}",
		"upstreams: {servers: [], policy: any}",
		"networks:",
		"  - {name: a, addressPrefixes: [10.0.0.0/8, nope]}",
		"cache: {maxEntries: -5}",
		"extra: 1",
	)})
	errs := problemsOf(t, filepath.Join(dir, "privdns.yaml"))
	var got []string
	for _, p := range errs {
		got = append(got, p.Key)
	}
	want := []string{"server.log.level", "upstreams.servers", "upstreams.policy", "networks[0].addressPrefixes[1]", "cache.maxEntries", "extra"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("problem keys = %v, want %v", got, want)
	}
}

func TestNxDomainRedirectOutsidePrivatelinkIsAWarning(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"zones:",
		"  - name: corp.example",
		"    links:",
		"      - {name: l, network: net-a, resolutionPolicy: NxDomainRedirect}",
		"  - name: privatelink.corp.example",
		"    links:",
		"      - {name: l, network: net-a, resolutionPolicy: NxDomainRedirect}",
	)})
	path := filepath.Join(dir, "privdns.yaml")
	cfg := mustLoad(t, path)
	want := path + ":11: zones[0].links[0].resolutionPolicy: NxDomainRedirect on zone corp.example."
	if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], want) {
		t.Errorf("warnings = %q, want one starting %q", cfg.Warnings, want)
	}
}

func TestZoneWithoutLinksIsAWarning(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"zones:",
		"  - name: linked.example",
		"    links: [{name: a, network: net-a}]",
		"  - name: orphan.example",
		"    records: ['www 60 IN A 10.0.0.1']",
		"  - name: empty-links.example",
		"    links: []",
	)})
	path := filepath.Join(dir, "privdns.yaml")
	cfg := mustLoad(t, path)
	want := []string{
		path + ":11: zones[1].links: zone orphan.example. has no links, so no network resolves it",
		path + ":14: zones[2].links: zone empty-links.example. has no links, so no network resolves it",
	}
	if len(cfg.Warnings) != 2 || !strings.HasPrefix(cfg.Warnings[0], want[0]) || !strings.HasPrefix(cfg.Warnings[1], want[1]) {
		t.Errorf("warnings:\n%s\nwant two starting\n%s", strings.Join(cfg.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

func TestPrefixWithHostBitsIsAWarningAndReadMasked(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": networksWith(
		"  - name: n",
		"    addressPrefixes: [10.1.2.3/16, 10.2.0.0/16]",
	)})
	path := filepath.Join(dir, "privdns.yaml")
	cfg := mustLoad(t, path)
	want := path + ":4: networks[0].addressPrefixes[0]: 10.1.2.3/16 has host bits set; read as 10.1.0.0/16"
	if len(cfg.Warnings) != 1 || cfg.Warnings[0] != want {
		t.Errorf("warnings = %q, want just %q", cfg.Warnings, want)
	}
	if got := cfg.Networks[0].AddressPrefixes[0].String(); got != "10.1.0.0/16" {
		t.Errorf("prefix read as %s, want 10.1.0.0/16", got)
	}
}

func TestIPv4MappedPrefixIsReadAsIPv4WithAWarning(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": networksWith(
		"  - name: n",
		"    addressPrefixes: ['::ffff:127.0.0.7/128', '::ffff:10.1.0.0/112']",
	)})
	path := filepath.Join(dir, "privdns.yaml")
	cfg := mustLoad(t, path)
	got := []string{cfg.Networks[0].AddressPrefixes[0].String(), cfg.Networks[0].AddressPrefixes[1].String()}
	if got[0] != "127.0.0.7/32" || got[1] != "10.1.0.0/16" {
		t.Errorf("prefixes read as %v, want 127.0.0.7/32 and 10.1.0.0/16", got)
	}
	if len(cfg.Warnings) != 2 || !strings.Contains(cfg.Warnings[0], "::ffff:127.0.0.7/128 is an IPv4-mapped prefix; read as 127.0.0.7/32") {
		t.Errorf("warnings %q", cfg.Warnings)
	}
}

func TestListenersOnPortZeroMayRepeat(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"server:",
		"  listeners:",
		"    - {address: '127.0.0.1:0', network: net-a}",
		"    - {address: '127.0.0.1:0', network: net-b}",
	)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	if len(cfg.Server.Listeners) != 2 {
		t.Errorf("listeners = %+v, want both", cfg.Server.Listeners)
	}
}

func TestYAMLMergeKeysAreNotUnknown(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"zones:",
		"  - name: a.example",
		"    links: [&link {name: shared, network: net-a, resolutionPolicy: nxdomainredirect}]",
		"  - name: b.example",
		"    links:",
		"      - <<: *link",
		"        network: net-b",
	)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	if l := cfg.Zones[1].Links[0]; l.Name != "shared" || l.Network != "net-b" || l.ResolutionPolicy != "NxDomainRedirect" {
		t.Errorf("merged link = %+v, want shared on net-b with NxDomainRedirect", l)
	}
}
