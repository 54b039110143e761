package azure

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const (
	cliDir = "../../testdata/azure/cli"
	armDir = "../../testdata/azure/arm"
)

func TestBothShapesImportToTheSameFiles(t *testing.T) {
	opts := Options{Upstreams: []string{"168.63.129.16:53"}}
	cli, arm := importDir(t, cliDir, opts), importDir(t, armDir, opts)
	if !maps.EqualFunc(cli.Files, arm.Files, bytes.Equal) {
		for name := range cli.Files {
			if !bytes.Equal(cli.Files[name], arm.Files[name]) {
				t.Errorf("%s differs:\nCLI:\n%s\nARM:\n%s", name, cli.Files[name], arm.Files[name])
			}
		}
		t.Fatalf("files: CLI %v, ARM %v", slices.Sorted(maps.Keys(cli.Files)), slices.Sorted(maps.Keys(arm.Files)))
	}
	if !slices.Equal(cli.Summary, arm.Summary) {
		t.Errorf("summaries differ:\n%v\n%v", cli.Summary, arm.Summary)
	}
}

// TestOutputIsDeterministic imports the fixture twice, then once more with
// every file renamed and moved and every list reversed: the bytes must not
// change.
func TestOutputIsDeterministic(t *testing.T) {
	first := importDir(t, cliDir, Options{})
	again := importDir(t, cliDir, Options{})
	if !maps.EqualFunc(first.Files, again.Files, bytes.Equal) {
		t.Fatal("a second run wrote other bytes")
	}
	shuffled := map[string]string{}
	err := fs.WalkDir(os.DirFS(cliDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".json" {
			return err
		}
		data, err := os.ReadFile(path.Join(cliDir, p))
		if err != nil {
			return err
		}
		var list []any
		if err := json.Unmarshal(data, &list); err != nil {
			return err
		}
		slices.Reverse(list)
		out, _ := json.Marshal(list)
		shuffled["elsewhere/"+strings.ReplaceAll(p, "/", "_")+".json"] = string(out)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	reordered := importFiles(t, shuffled, Options{})
	for name, data := range first.Files {
		if !bytes.Equal(data, reordered.Files[name]) {
			t.Errorf("%s changed with the order of the input:\n%s\n---\n%s", name, data, reordered.Files[name])
		}
	}
}

func TestFixtureImport(t *testing.T) {
	res := importDir(t, cliDir, Options{})
	conf := string(res.Files[ConfigFile])
	for _, want := range []string{
		// Same-named VNets in two resource groups, and links whose ids
		// spell them in other letter case.
		`- name: "rg-dev-vnet-app"`, `- name: "rg-prod-vnet-app"`, `- name: "vnet-hub"`,
		`addressPrefixes: ["10.0.0.0/16", "fd00:10::/48"]`,
		"network: \"rg-prod-vnet-app\"\n        resolutionPolicy: \"NxDomainRedirect\"",
		// Absent and null resolutionPolicy are Default.
		"- name: \"spoke-blob\"\n        network: \"vnet-spoke\"\n        resolutionPolicy: \"Default\"",
		"- name: \"hub-internal\"\n        network: \"vnet-hub\"\n        resolutionPolicy: \"Default\"\n        registrationEnabled: true",
		// Same-named zones in two resource groups.
		`file: "zones/rg-dev-privatelink.blob.core.windows.net.zone"`,
		`file: "zones/rg-hub-privatelink.blob.core.windows.net.zone"`,
		`file: "zones/internal.contoso.com.zone"`,
		// Rulesets: ports, a Disabled rule, a "." rule, links by VNet.
		`networks: ["rg-prod-vnet-app", "vnet-hub"]`,
		"domain: \"corp.contoso.com.\"\n        targets: [\"10.10.0.4:53\", \"10.10.0.5:53\"]\n        state: \"Enabled\"",
		"targets: [\"10.10.0.6:5353\"]\n        state: \"Disabled\"",
		"domain: \".\"\n        targets: [\"10.3.255.4:53\"]",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("privdns.yaml lacks %q:\n%s", want, conf)
		}
	}
	if !strings.Contains(conf, "server:\n  dataDir: \"data\"") {
		t.Errorf("registration-enabled links without server.dataDir, which R13 requires:\n%s", conf)
	}
	for _, absent := range []string{"upstreams:", `"vnet-app"`} {
		if strings.Contains(conf, absent) {
			t.Errorf("privdns.yaml holds %q:\n%s", absent, conf)
		}
	}
	for _, want := range []string{
		"README.txt: skipped (not a .json file)",
		"dns-resolvers.json: [0]: skipped an object of type Microsoft.Network/dnsResolvers",
		"upstreams: none given",
	} {
		if !containsLine(res.Notices, want) {
			t.Errorf("no notice %q in %q", want, res.Notices)
		}
	}
	if len(res.Summary) != 5 || !containsLine(res.Summary, "zone internal.contoso.com (resource group rg-hub): 21 record sets (2 auto-registered), 3 links -> zones/internal.contoso.com.zone") {
		t.Errorf("summary: %q", res.Summary)
	}
	zone := string(res.Files["zones/internal.contoso.com.zone"])
	for _, want := range []string{
		"$ORIGIN internal.contoso.com.\n@\t3600\tIN\tSOA\tazureprivatedns.net. azureprivatedns-host.microsoft.com. 17 1800 300 2419200 300\n",
		"*.apps\t60\tIN\tA\t10.0.3.1\n",
		"db.eu.prod\t300\tIN\tAAAA\tfd00:10::1:5\n",
		"@\t3600\tIN\tMX\t10 mail.internal.contoso.com.\n", // absolute without Azure's final dot
		"_sip._tcp\t3600\tIN\tSRV\t20 0 5060 sip2.internal.contoso.com.\n",
		"portal\t600\tIN\tCNAME\twww.internal.contoso.com.\n",
		"@\t3600\tIN\tTXT\t\"contoso-verification=7f3a\" \"second string\"\n",
		"vm-hub-01\t10\tIN\tA\t10.0.0.4\t; auto-registered by Azure\n",
		`"tail; with \"quotes\" and \\backslash (parens) caf\195\169"`,
	} {
		if !strings.Contains(zone, want) {
			t.Errorf("zone file lacks %q:\n%s", want, zone)
		}
	}
}

func TestOptionsChangeTheOutput(t *testing.T) {
	res := importDir(t, cliDir, Options{Upstreams: []string{"168.63.129.16:53", "[fd00::53]:53"}, SkipAutoregistered: true, DataDir: "data"})
	conf := string(res.Files[ConfigFile])
	for _, want := range []string{"server:\n  dataDir: \"data\"", "upstreams:\n  servers: [\"168.63.129.16:53\", \"[fd00::53]:53\"]\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("privdns.yaml lacks %q:\n%s", want, conf)
		}
	}
	if zone := string(res.Files["zones/internal.contoso.com.zone"]); strings.Contains(zone, "vm-hub-01") || strings.Contains(zone, "auto-registered") {
		t.Errorf("--autoregistered skip wrote them:\n%s", zone)
	}
	if !containsLine(res.Summary, "19 record sets (2 auto-registered left out)") || containsLine(res.Notices, "upstreams: none given") {
		t.Errorf("summary %q notices %q", res.Summary, res.Notices)
	}
	// Without a registration-enabled link there is no dataDir.
	plain := importFiles(t, smallEstate(), Options{DataDir: "data"})
	if strings.Contains(string(plain.Files[ConfigFile]), "dataDir") || strings.Contains(string(plain.Files[ConfigFile]), "registration-enabled") {
		t.Errorf("dataDir without a registration link:\n%s", plain.Files[ConfigFile])
	}
}

// TestWrittenFixtureLoadsAndHoldsItsRecords loads the output with privdns's
// configuration loader and looks the records up in the loaded zones.
func TestWrittenFixtureLoadsAndHoldsItsRecords(t *testing.T) {
	cfg := loadWritten(t, importDir(t, armDir, Options{Upstreams: []string{"192.0.2.53:53"}}))
	if len(cfg.Networks) != 5 || len(cfg.Zones) != 5 || len(cfg.ForwardingRulesets) != 2 {
		t.Fatalf("loaded %d networks, %d zones, %d rulesets", len(cfg.Networks), len(cfg.Zones), len(cfg.ForwardingRulesets))
	}
	var internal, hubBlob int = -1, -1
	for i, z := range cfg.Zones {
		switch {
		case z.Name == "internal.contoso.com.":
			internal = i
		case strings.HasSuffix(z.File, "rg-hub-privatelink.blob.core.windows.net.zone"):
			hubBlob = i
		}
	}
	if internal < 0 || hubBlob < 0 {
		t.Fatalf("zones: %+v", cfg.Zones)
	}
	cases := []struct {
		zone        int
		qname       string
		qtype       uint16
		want        string // the answer's records, joined by "|"
		wantTTL     uint32
		wantStrings int
	}{
		{internal, "internal.contoso.com.", dns.TypeSOA, "azureprivatedns.net. azureprivatedns-host.microsoft.com. 17 1800 300 2419200 300", 3600, 0},
		{internal, "anything.apps.internal.contoso.com.", dns.TypeA, "10.0.3.1", 60, 0},
		{internal, "api.apps.internal.contoso.com.", dns.TypeA, "10.0.3.2", 60, 0},
		{internal, "db.eu.prod.internal.contoso.com.", dns.TypeAAAA, "fd00:10::1:5", 300, 0},
		{internal, "host-alias.internal.contoso.com.", dns.TypePTR, "www.internal.contoso.com.", 3600, 0},
		{internal, "selector1._domainkey.internal.contoso.com.", dns.TypeTXT, "", 3600, 2},
		{internal, "split.internal.contoso.com.", dns.TypeTXT, "", 3600, 2},
		{hubBlob, "contoso.privatelink.blob.core.windows.net.", dns.TypeA, "10.0.1.4", 10, 0},
		{hubBlob, "fabrikam-dr.z7.privatelink.blob.core.windows.net.", dns.TypeA, "10.0.1.6|10.0.1.7", 3600, 0},
	}
	for _, tc := range cases {
		r := cfg.Zones[tc.zone].Data.Lookup(tc.qname, tc.qtype)
		if len(r.Records) == 0 {
			t.Errorf("%s %s: no answer (%v)", tc.qname, dns.TypeToString[tc.qtype], r.Kind)
			continue
		}
		var got []string
		for _, rr := range r.Records {
			if rr.Header().Ttl != tc.wantTTL {
				t.Errorf("%s: TTL %d, want %d", rr.Header().Name, rr.Header().Ttl, tc.wantTTL)
			}
			if txt, ok := rr.(*dns.TXT); ok {
				if len(txt.Txt) != tc.wantStrings {
					t.Errorf("%s: %d strings, want %d", tc.qname, len(txt.Txt), tc.wantStrings)
				}
				continue
			}
			got = append(got, strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
		slices.Sort(got)
		if tc.want != "" && strings.Join(got, "|") != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.qname, dns.TypeToString[tc.qtype], got, tc.want)
		}
	}
}

func TestLongTXTValuesAreSplitAtCharacters(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	pieces := splitTXT(long)
	if len(pieces) != 2 || strings.Join(pieces, "") != long || len(pieces[0]) != 254 {
		t.Errorf("pieces of %d and %d bytes", len(pieces[0]), len(pieces[len(pieces)-1]))
	}
	if p := splitTXT(strings.Repeat("a", 600)); len(p) != 3 || len(p[0]) != 255 || len(p[2]) != 90 {
		t.Errorf("600 bytes: %d pieces", len(p))
	}
	if p := splitTXT(""); len(p) != 1 || p[0] != "" {
		t.Errorf("empty: %q", p)
	}
}

func TestARMSpellingsAndOtherEncodingsAreRead(t *testing.T) {
	// Public Azure DNS's ARM shape capitalises the record lists; key case
	// is ignored, so those spellings read too.
	caps := `{"value": [{"id": "` + zoneZ + `/A/www", "name": "www", "type": "Microsoft.Network/privateDnsZones/A",
  "properties": {"TTL": 300, "ARecords": [{"IPv4Address": "10.1.0.5"}]}},
 {"id": "` + zoneZ + `/CNAME/alias", "name": "alias", "type": "microsoft.network/privatednszones/cname",
  "properties": {"TTL": 60, "CNAMERecord": {"cname": "www.z.example"}}}],
 "nextLink": "https://management.azure.com/next"}`
	res := importFiles(t, with(smallEstate(), "records.json", caps), Options{})
	zone := string(res.Files["zones/z.example.zone"])
	if !strings.Contains(zone, "www\t300\tIN\tA\t10.1.0.5") || !strings.Contains(zone, "alias\t60\tIN\tCNAME\twww.z.example.") {
		t.Errorf("zone:\n%s", zone)
	}
	if !containsLine(res.Notices, "records.json: nextLink") {
		t.Errorf("no notice of the next page: %q", res.Notices)
	}

	// PowerShell's ">" writes UTF-16 with a byte order mark.
	text := smallEstate()["records.json"]
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range text {
		utf16 = append(utf16, byte(r), byte(r>>8))
	}
	res2 := importFiles(t, with(smallEstate(), "records.json", string(utf16)), Options{})
	if !strings.Contains(string(res2.Files["zones/z.example.zone"]), "www\t300\tIN\tA\t10.1.0.5") {
		t.Errorf("UTF-16 file not read:\n%s", res2.Files["zones/z.example.zone"])
	}
}

func TestTheSameObjectInTwoFilesMerges(t *testing.T) {
	base := smallEstate()
	arm := `{"value": [{"id": "` + strings.ToUpper(zoneZ) + `/A/www", "name": "www", "type": "Microsoft.Network/privateDnsZones/A",
  "etag": "other", "properties": {"ttl": 300, "aRecords": [{"ipv4Address": "10.1.0.5"}], "fqdn": "www.z.example."}}]}`
	merged := importFiles(t, with(base, "copy/records.json", arm, "copy/zones.json", base["zones.json"]), Options{})
	plain := importFiles(t, base, Options{})
	if !maps.EqualFunc(merged.Files, plain.Files, bytes.Equal) {
		t.Errorf("a second identical listing changed the output:\n%s", merged.Files["zones/z.example.zone"])
	}
}

func TestNoticesForWhatIsLeftOutOrChanged(t *testing.T) {
	zones := `[{"id": "` + zoneZ + `", "name": "z.example", "type": "Microsoft.Network/privateDnsZones", "numberOfRecordSets": 5, "numberOfVirtualNetworkLinks": 2}]`
	empty := `{"id": "` + zoneZ + `/A/gone", "name": "gone", "type": "Microsoft.Network/privateDnsZones/A", "ttl": 300, "aRecords": []}`
	vnets := strings.Replace(smallEstate()["vnets.json"], "10.2.0.0/16", "10.2.3.4/16", 1)
	res := importFiles(t, with(smallEstate(), "zones.json", zones, "records.json", "["+aSet("www", 300, "10.1.0.5")+","+empty+"]", "vnets.json", vnets,
		"subnets.json", `[{"id": "`+vnetA+`/subnets/s", "name": "s", "type": "Microsoft.Network/virtualNetworks/subnets"}, {"id": "`+vnetA+`/subnets/t", "name": "t", "type": "Microsoft.Network/virtualNetworks/subnets"}, {"name": "typeless"}]`), Options{})
	for _, want := range []string{
		"records.json: [1]: record set gone (A) of zone z.example holds no records: left out",
		"zones.json: [0]: zone z.example: Azure counts 5 record sets, the input holds 2",
		"zones.json: [0]: zone z.example: Azure counts 2 virtual network links, the input holds 1",
		"vnets.json: [1].addressSpace.addressPrefixes[0]: 10.2.3.4/16 has host bits set; imported as 10.2.0.0/16",
		"subnets.json: [0]: skipped an object of type Microsoft.Network/virtualNetworks/subnets and 1 more like it",
		"subnets.json: [2]: skipped an object of no type",
	} {
		if !containsLine(res.Notices, want) {
			t.Errorf("no notice %q in:\n%s", want, strings.Join(res.Notices, "\n"))
		}
	}
	if strings.Contains(string(res.Files["zones/z.example.zone"]), "gone") {
		t.Error("an empty record set was written")
	}
}

func TestSameNamedRulesetsAndNameCollisions(t *testing.T) {
	rs2 := strings.Replace(rsR, "rg-dns", "rg-other", 1)
	res := importFiles(t, with(smallEstate(), "rulesets2.json", `[{"id": "`+rs2+`", "name": "RS", "type": "Microsoft.Network/dnsForwardingRulesets"}]`), Options{})
	conf := string(res.Files[ConfigFile])
	if !strings.Contains(conf, `- name: "rg-dns-rs"`) || !strings.Contains(conf, `- name: "rg-other-rs"`) {
		t.Errorf("same-named rulesets:\n%s", conf)
	}
	// A VNet already named as another would be renamed cannot be told apart.
	clash := sub + "/resourceGroups/rg-x/providers/Microsoft.Network/virtualNetworks/rg-net-vnet-a"
	vnets := strings.TrimSuffix(strings.TrimSpace(smallEstate()["vnets.json"]), "]") + `,
  {"id": "` + strings.Replace(vnetA, "rg-net", "rg-net2", 1) + `", "name": "vnet-a", "type": "Microsoft.Network/virtualNetworks", "addressSpace": {"addressPrefixes": ["10.3.0.0/16"]}},
  {"id": "` + clash + `", "name": "rg-net-vnet-a", "type": "Microsoft.Network/virtualNetworks", "addressSpace": {"addressPrefixes": ["10.4.0.0/16"]}}]`
	_, err := Import(mapFS(with(smallEstate(), "vnets.json", vnets)), Options{})
	if ps := problemsOf(t, err); !strings.Contains(ps.Error(), "vnets.json: [3].name: VNet "+clash+" would be named rg-net-vnet-a, as "+vnetA) {
		t.Errorf("got %v", ps)
	}
}
