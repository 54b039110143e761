package azure

import (
	"strings"
	"testing"
)

// TestBadInputIsReportedWithFileAndPath covers each error of SPEC §7 and
// the bad input: every case names the file and the JSON path (or,
// for malformed JSON, the line and column) and yields no files.
func TestBadInputIsReportedWithFileAndPath(t *testing.T) {
	base := smallEstate()
	link := func(name, vnet string) string {
		return `{"id": "` + zoneZ + `/virtualNetworkLinks/` + name + `", "name": "` + name + `", "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "virtualNetwork": {"id": "` + vnet + `"}}`
	}
	armLink := func(name, vnet string) string {
		return `{"id": "` + zoneZ + `/virtualNetworkLinks/` + name + `", "name": "` + name + `", "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "properties": {"virtualNetwork": {"id": "` + vnet + `"}}}`
	}
	set := func(typ, name, body string) string {
		return `{"id": "` + zoneZ + `/` + typ + `/` + name + `", "name": "` + name + `", "type": "Microsoft.Network/privateDnsZones/` + typ + `", ` + body + `}`
	}
	rule := func(body string) string {
		return `{"id": "` + rsR + `/forwardingRules/x", "name": "x", "type": "Microsoft.Network/dnsForwardingRulesets/forwardingRules", ` + body + `}`
	}
	zone2 := strings.Replace(zoneZ, "rg-dns", "rg-other", 1)
	missing := sub + "/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-gone"
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		// Malformed JSON, with line and column.
		{"a missing colon", with(base, "links/blob.json", "[\n  {\"id\": \"x\",\n   \"name\" \"l1\"}\n]"), `links/blob.json:3:11: malformed JSON: invalid character '"' after object key`},
		{"a trailing comma", with(base, "links.json", "[\n  {\"id\": \"x\"},\n]"), "links.json:3:1: malformed JSON"},
		{"a file cut short", with(base, "links.json", `[{"id": "x"`), "links.json:1:12: malformed JSON: the file ends in the middle of a value"},
		{"an empty file", with(base, "links.json", "\n"), "links.json:1:1: malformed JSON: the file is empty"},
		{"more after the value", with(base, "links.json", "[]\n[]"), "links.json:2:1: malformed JSON: more after the end"},
		{"a bad escape", with(base, "zones.json", `["\q"]`), "zones.json:1:4: malformed JSON"},
		{"a string at the top", with(base, "links.json", `"links"`), `links.json: want a list of objects, one object or {"value": [...]}, not "links"`},
		{"a number in the list", with(base, "links.json", `[1]`), "links.json: [0]: must be an object, not 1"},

		// Objects whose zone, ruleset or VNet is not in the input.
		{"a record set of a missing zone", with(base, "records.json", `[`+strings.Replace(aSet("www", 60, "10.1.0.5"), "rg-dns", "rg-other", 1)+`]`), "records.json: [0].id: the zone of this record set (" + strings.ToLower(zone2) + ") is not in the input"},
		{"a link of a missing zone", with(base, "zones.json", ""), "links.json: [0].id: the zone of this link"},
		{"a link to a missing VNet", with(base, "links/blob.json", "["+link("l1", vnetA)+",\n"+link("l2", vnetB)+",\n"+link("l3", missing)+"]", "links.json", ""), "links/blob.json: [2].virtualNetwork.id: VNet " + missing + " is not in the input"},
		{"an ARM link to a missing VNet", with(base, "links/blob.json", "["+armLink("l1", vnetA)+",\n"+armLink("l2", vnetB)+",\n"+armLink("l3", missing)+"]", "links.json", ""), "links/blob.json: [2].properties.virtualNetwork.id: VNet"},
		{"an ARM list link to a missing VNet", with(base, "links.json", `{"value": [`+armLink("l3", missing)+`]}`), "links.json: value[0].properties.virtualNetwork.id: VNet"},
		{"a ruleset link to a missing VNet", with(base, "rslinks.json", strings.Replace(base["rslinks.json"], vnetB, missing, 1)), "rslinks.json: [0].virtualNetwork.id: VNet " + missing + " is not in the input"},
		{"a rule of a missing ruleset", with(base, "rulesets.json", ""), "rules.json: [0].id: the ruleset of this rule"},
		{"a ruleset link of a missing ruleset", with(base, "rulesets.json", "", "rules.json", ""), "rslinks.json: [0].id: the ruleset of this link"},

		// Two links of one VNet to zones of one name; two registrations.
		{"two links of one VNet to zones of one name",
			with(base, "zones.json", `[{"id": "`+zoneZ+`", "name": "z.example", "type": "Microsoft.Network/privateDnsZones"}, {"id": "`+zone2+`", "name": "z.example", "type": "Microsoft.Network/privateDnsZones"}]`,
				"links2.json", `[`+strings.Replace(link("l1", strings.ToUpper(vnetA)), "rg-dns", "rg-other", 1)+`]`),
			"links2.json: [0].virtualNetwork.id: VNet " + strings.ToUpper(vnetA) + " is already linked to a zone named z.example (links.json: [0])"},
		{"two registration links of one VNet",
			with(base, "zones.json", `[{"id": "`+zoneZ+`", "name": "z.example", "type": "Microsoft.Network/privateDnsZones"}, {"id": "`+strings.Replace(zone2, "z.example", "y.example", 1)+`", "name": "y.example", "type": "Microsoft.Network/privateDnsZones"}]`,
				"links.json", `[`+strings.Replace(link("l1", vnetA), `"virtualNetwork"`, `"registrationEnabled": true, "virtualNetwork"`, 1)+`]`,
				"links2.json", `[`+strings.Replace(strings.ReplaceAll(link("l2", vnetA), "rg-dns/providers/Microsoft.Network/privateDnsZones/z.example", "rg-other/providers/Microsoft.Network/privateDnsZones/y.example"), `"virtualNetwork"`, `"registrationEnabled": true, "virtualNetwork"`, 1)+`]`),
			"links2.json: [0].registrationEnabled: VNet " + vnetA + " already has a registration-enabled link"},

		// Required fields.
		{"a record set without ttl", with(base, "records.json", `[`+set("A", "www", `"aRecords": [{"ipv4Address": "10.1.0.5"}]`)+`]`), "records.json: [0].ttl: required"},
		{"an ARM record set without ttl", with(base, "records.json", `[`+set("A", "www", `"properties": {"aRecords": [{"ipv4Address": "10.1.0.5"}]}`)+`]`), "records.json: [0].properties.ttl: required"},
		{"an object without id", with(base, "zones.json", `[{"name": "z.example", "type": "Microsoft.Network/privateDnsZones"}]`), "zones.json: [0].id: required"},
		{"an object without name", with(base, "zones.json", `[{"id": "`+zoneZ+`", "type": "Microsoft.Network/privateDnsZones"}]`), "zones.json: [0].name: required"},
		{"a VNet without address space", with(base, "vnets.json", `[{"id": "`+vnetA+`", "name": "vnet-a", "type": "Microsoft.Network/virtualNetworks"}]`), "vnets.json: [0].addressSpace.addressPrefixes: required"},
		{"a link without a VNet", with(base, "links.json", `[{"id": "`+zoneZ+`/virtualNetworkLinks/l1", "name": "l1", "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks"}]`), "links.json: [0].virtualNetwork.id: required"},
		{"an A record without its address", with(base, "records.json", `[`+set("A", "www", `"ttl": 5, "aRecords": [{"ipv4address": "10.1.0.5"}, {}]`)+`]`), "records.json: [0].aRecords[1].ipv4Address: required"},
		{"an SOA without serial", with(base, "records.json", `[`+set("SOA", "@", `"ttl": 3600, "soaRecord": {"host": "azureprivatedns.net", "email": "azureprivatedns-host.microsoft.com", "refreshTime": 3600, "retryTime": 300, "expireTime": 2419200, "minimumTtl": 10}`)+`]`), "records.json: [0].soaRecord.serialNumber: required"},
		{"an SOA record set without its record", with(base, "records.json", `[`+set("SOA", "@", `"ttl": 3600`)+`]`), "records.json: [0].soaRecord: required"},
		{"an MX without exchange", with(base, "records.json", `[`+set("MX", "@", `"ttl": 3600, "mxRecords": [{"preference": 10}]`)+`]`), "records.json: [0].mxRecords[0].exchange: required"},
		{"an SRV without port", with(base, "records.json", `[`+set("SRV", "_sip._tcp", `"ttl": 3600, "srvRecords": [{"priority": 1, "weight": 1, "target": "sip.z.example"}]`)+`]`), "records.json: [0].srvRecords[0].port: required"},
		{"a TXT without value", with(base, "records.json", `[`+set("TXT", "t", `"ttl": 3600, "txtRecords": [{}]`)+`]`), "records.json: [0].txtRecords[0].value: required"},
		{"a TXT value that is no string", with(base, "records.json", `[`+set("TXT", "t", `"ttl": 3600, "txtRecords": [{"value": ["a", 7]}]`)+`]`), "records.json: [0].txtRecords[0].value[1]: must be a string, not 7"},
		{"a rule without targets", with(base, "rules.json", `[`+rule(`"domainName": "corp.contoso.com."`)+`]`), "rules.json: [0].targetDnsServers: required"},
		{"a rule without domain", with(base, "rules.json", `[`+rule(`"targetDnsServers": [{"ipAddress": "10.0.0.1"}]`)+`]`), "rules.json: [0].domainName: required"},

		// Addresses that do not parse.
		{"a bad IPv4 address", with(base, "records.json", `[`+aSet("www", 60, "10.1.0.256")+`]`), `records.json: [0].aRecords[0].ipv4Address: "10.1.0.256" is not an IP address`},
		{"an IPv4 address in an AAAA record", with(base, "records.json", `[`+set("AAAA", "www", `"ttl": 60, "aaaaRecords": [{"ipv6Address": "10.1.0.5"}]`)+`]`), `records.json: [0].aaaaRecords[0].ipv6Address: "10.1.0.5" is not an IPv6 address`},
		{"an IPv6 address in an A record", with(base, "records.json", `[`+aSet("www", 60, "fd00::5")+`]`), "is not an IPv4 address"},
		{"a bad prefix", with(base, "vnets.json", strings.Replace(base["vnets.json"], "10.2.0.0/16", "10.2.0.0/33", 1)), `vnets.json: [1].addressSpace.addressPrefixes[0]: "10.2.0.0/33" is not an address prefix`},
		{"a bad rule target", with(base, "rules.json", `[`+rule(`"domainName": "corp.contoso.com.", "targetDnsServers": [{"ipAddress": "dc01.corp"}]`)+`]`), `rules.json: [0].targetDnsServers[0].ipAddress: "dc01.corp" is not an IP address`},
		{"a rule target port 0", with(base, "rules.json", `[`+rule(`"domainName": "corp.contoso.com.", "targetDnsServers": [{"ipAddress": "10.0.0.1", "port": 0}]`)+`]`), "rules.json: [0].targetDnsServers[0].port: 0 is out of range (1 to 65535)"},
		{"two VNets with one prefix", with(base, "vnets.json", strings.Replace(base["vnets.json"], "10.2.0.0/16", "10.1.0.0/16", 1)), "vnets.json: [1].addressSpace.addressPrefixes[0]: 10.1.0.0/16 is also a prefix of VNet " + vnetA},

		// TTLs and numbers out of range.
		{"a negative TTL", with(base, "records.json", `[`+aSet("www", -1, "10.1.0.5")+`]`), "records.json: [0].ttl: -1 is out of range (0 to 2147483647)"},
		{"a TTL past 2^31-1", with(base, "records.json", `[`+set("A", "www", `"ttl": 2147483648, "aRecords": [{"ipv4Address": "10.1.0.5"}]`)+`]`), "records.json: [0].ttl: 2147483648 is out of range"},
		{"a fractional TTL", with(base, "records.json", `[`+set("A", "www", `"ttl": 1.5, "aRecords": [{"ipv4Address": "10.1.0.5"}]`)+`]`), "records.json: [0].ttl: must be a whole number, not 1.5"},
		{"a TTL as a string", with(base, "records.json", `[`+set("A", "www", `"ttl": "300", "aRecords": [{"ipv4Address": "10.1.0.5"}]`)+`]`), `records.json: [0].ttl: must be a whole number, not "300"`},
		{"an MX preference past 65535", with(base, "records.json", `[`+set("MX", "@", `"ttl": 3600, "mxRecords": [{"preference": 65536, "exchange": "mail.z.example"}]`)+`]`), "records.json: [0].mxRecords[0].preference: 65536 is out of range"},
		{"an SOA serial past 2^32-1", with(base, "records.json", `[`+set("SOA", "@", `"ttl": 3600, "soaRecord": {"host": "h", "email": "e.x", "serialNumber": 4294967296, "refreshTime": 1, "retryTime": 1, "expireTime": 1, "minimumTtl": 1}`)+`]`), "records.json: [0].soaRecord.serialNumber: 4294967296 is out of range"},

		// A CNAME beside other types, or at the apex.
		{"a CNAME beside an A record set", with(base, "more.json", `[`+set("CNAME", "WWW", `"ttl": 60, "cnameRecord": {"cname": "other.z.example"}`)+`]`), "more.json: [0]: CNAME record set WWW beside a A record set of the same name (records.json: [0])"},
		{"a CNAME at the apex", with(base, "more.json", `[`+set("CNAME", "@", `"ttl": 60, "cnameRecord": {"cname": "other.example"}`)+`]`), "more.json: [0]: a CNAME record set at the apex of zone z.example"},

		// Names that are not valid DNS names.
		{"a record name with a space", with(base, "records.json", `[`+aSet("bad name", 60, "10.1.0.5")+`]`), `records.json: [0].name: "bad name" is not a valid DNS name: label "bad name" may hold only letters, digits, '-' and '_'`},
		{"a record name with an empty label", with(base, "records.json", `[`+aSet("a..b", 60, "10.1.0.5")+`]`), `records.json: [0].name: "a..b" is not a valid DNS name: empty label`},
		{"a record name with a long label", with(base, "records.json", `[`+aSet(strings.Repeat("x", 64), 60, "10.1.0.5")+`]`), "is longer than 63 characters"},
		{"an absolute record name", with(base, "records.json", `[`+aSet("www.z.example.", 60, "10.1.0.5")+`]`), `records.json: [0].name: "www.z.example." is not a relative name`},
		{"a wildcard inside a name", with(base, "records.json", `[`+aSet("a.*", 60, "10.1.0.5")+`]`), `records.json: [0].name: "a.*" is not a valid DNS name`},
		{"a bad zone name", with(base, "zones.json", `[{"id": "`+zoneZ+`", "name": "z..example", "type": "Microsoft.Network/privateDnsZones"}]`), `zones.json: [0].name: "z..example" is not a valid DNS name`},
		{"a bad CNAME target", with(base, "records.json", `[`+set("CNAME", "alias", `"ttl": 60, "cnameRecord": {"cname": "exa mple.com"}`)+`]`), `records.json: [0].cnameRecord.cname: "exa mple.com" is not a valid DNS name`},
		{"a bad rule domain", with(base, "rules.json", `[`+rule(`"domainName": "corp..contoso.com.", "targetDnsServers": [{"ipAddress": "10.0.0.1"}]`)+`]`), `rules.json: [0].domainName: "corp..contoso.com." is not a valid DNS name`},
		{"an SOA not at the apex", with(base, "records.json", `[`+set("SOA", "sub", `"ttl": 3600, "soaRecord": {"host": "h", "email": "e.x", "serialNumber": 1, "refreshTime": 1, "retryTime": 1, "expireTime": 1, "minimumTtl": 1}`)+`]`), `records.json: [0].name: an SOA record set is named @`},
		{"a bad link name", with(base, "links.json", `[`+link("l 1", vnetA)+`]`), `links.json: [0].name: "l 1" may hold only letters`},

		// Other values privdns cannot hold.
		{"an unknown resolution policy", with(base, "links.json", `[`+strings.Replace(link("l1", vnetA), `"virtualNetwork"`, `"resolutionPolicy": "Fallback", "virtualNetwork"`, 1)+`]`), `links.json: [0].resolutionPolicy: privdns cannot hold resolution policy "Fallback"`},
		{"an unknown rule state", with(base, "rules.json", `[`+rule(`"domainName": "corp.contoso.com.", "targetDnsServers": [{"ipAddress": "10.0.0.1"}], "forwardingRuleState": "Paused"`)+`]`), `rules.json: [0].forwardingRuleState: privdns cannot hold rule state "Paused"`},
		{"registrationEnabled as a string", with(base, "links.json", `[`+strings.Replace(link("l1", vnetA), `"virtualNetwork"`, `"registrationEnabled": "yes", "virtualNetwork"`, 1)+`]`), `links.json: [0].registrationEnabled: must be true or false, not "yes"`},
		{"a key written twice", with(base, "records.json", `[`+set("A", "www", `"ttl": 60, "TTL": 70, "aRecords": [{"ipv4Address": "10.1.0.5"}]`)+`]`), `records.json: [0].TTL: written twice in one object (also as "ttl")`},
		{"a record set id outside a zone", with(base, "records.json", `[{"id": "`+vnetA+`/A/www", "name": "www", "type": "Microsoft.Network/privateDnsZones/A", "ttl": 1, "aRecords": []}]`), "records.json: [0].id: \"" + vnetA + "/A/www\" is not the id of a record set of a private DNS zone"},
		{"a link id outside a zone", with(base, "links.json", `[{"id": "`+zoneZ+`", "name": "l1", "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "virtualNetwork": {"id": "`+vnetA+`"}}]`), "links.json: [0].id: \"" + zoneZ + "\" is not the id of a privateDnsZones/virtualNetworkLinks resource"},
		{"a rule twice in one ruleset", with(base, "rules2.json", `[{"id": "`+rsR+`/forwardingRules/corp2", "name": "corp2", "type": "Microsoft.Network/dnsForwardingRulesets/forwardingRules", "domainName": "CORP.contoso.com", "targetDnsServers": [{"ipAddress": "10.10.0.5"}]}]`), "rules2.json: [0].domainName: the ruleset already has a rule for corp.contoso.com. (rules.json: [0].domainName)"},

		// The same object twice, not the same.
		{"one object twice, different", with(base, "records-again.json", `[`+aSet("www", 600, "10.1.0.5")+`]`), "records.json: [0]: " + zoneZ + "/A/www differs from the same object (same id) at records-again.json: [0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Import(mapFS(tc.files), Options{})
			if err == nil {
				t.Fatalf("no problem reported; want %q\n%s", tc.want, res.Files[ConfigFile])
			}
			if res == nil || res.Files != nil {
				t.Errorf("files produced despite the problem")
			}
			ps := problemsOf(t, err)
			if !strings.Contains(ps.Error(), tc.want) {
				t.Errorf("problems:\n%v\nwant one containing:\n%s", ps, tc.want)
			}
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	files := with(smallEstate(),
		"records.json", `[`+aSet("www", -5, "10.1.0.256")+`, `+aSet("ok", 60, "10.1.0.6")+`]`,
		"links.json", "[\n{,\n]")
	_, err := Import(mapFS(files), Options{})
	ps := problemsOf(t, err)
	got := ps.Error()
	for _, want := range []string{"links.json:2:2: malformed JSON", "records.json: [0].ttl:", "records.json: [0].aRecords[0].ipv4Address:"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if ps[0].File != "links.json" {
		t.Errorf("problems not sorted by file: %v", ps)
	}
}

func TestNoJSONAtAllIsAProblem(t *testing.T) {
	_, err := Import(mapFS(map[string]string{"notes.txt": "hello"}), Options{})
	if ps := problemsOf(t, err); !strings.Contains(ps.Error(), "no .json file") {
		t.Errorf("got %v", ps)
	}
}
