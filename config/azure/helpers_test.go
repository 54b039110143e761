package azure

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/privdns/privdns/config"
)

// Ids of the small estate the bad-input tests start from.
const (
	sub   = "/subscriptions/11111111-2222-3333-4444-555555555555"
	vnetA = sub + "/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-a"
	vnetB = sub + "/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-b"
	zoneZ = sub + "/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/z.example"
	rsR   = sub + "/resourceGroups/rg-dns/providers/Microsoft.Network/dnsForwardingRulesets/rs"
)

// smallEstate is a valid input in the CLI's shape: two VNets, one zone
// with an A record set linked to vnet-a, a ruleset with one rule linked to
// vnet-b.
func smallEstate() map[string]string {
	return map[string]string{
		"vnets.json": `[
  {"id": "` + vnetA + `", "name": "vnet-a", "type": "Microsoft.Network/virtualNetworks",
   "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}},
  {"id": "` + vnetB + `", "name": "vnet-b", "type": "Microsoft.Network/virtualNetworks",
   "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]}}
]`,
		"zones.json":   `[{"id": "` + zoneZ + `", "name": "z.example", "type": "Microsoft.Network/privateDnsZones"}]`,
		"records.json": `[` + aSet("www", 300, "10.1.0.5") + `]`,
		"links.json": `[{"id": "` + zoneZ + `/virtualNetworkLinks/l1", "name": "l1", "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
  "virtualNetwork": {"id": "` + vnetA + `"}, "registrationEnabled": false}]`,
		"rulesets.json": `[{"id": "` + rsR + `", "name": "rs", "type": "Microsoft.Network/dnsForwardingRulesets"}]`,
		"rules.json": `[{"id": "` + rsR + `/forwardingRules/corp", "name": "corp", "type": "Microsoft.Network/dnsForwardingRulesets/forwardingRules",
  "domainName": "corp.contoso.com.", "targetDnsServers": [{"ipAddress": "10.10.0.4", "port": 53}], "forwardingRuleState": "Enabled"}]`,
		"rslinks.json": `[{"id": "` + rsR + `/virtualNetworkLinks/b", "name": "b", "type": "Microsoft.Network/dnsForwardingRulesets/virtualNetworkLinks",
  "virtualNetwork": {"id": "` + vnetB + `"}}]`,
	}
}

// aSet is an A record set of zone z.example in the CLI's shape.
func aSet(name string, ttl int, ip string) string {
	return `{"id": "` + zoneZ + `/A/` + name + `", "name": "` + name + `", "type": "Microsoft.Network/privateDnsZones/A", "ttl": ` +
		itoa(ttl) + `, "aRecords": [{"ipv4Address": "` + ip + `"}]}`
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return fsys
}

// importFiles imports files, failing the test on a problem.
func importFiles(t *testing.T, files map[string]string, opts Options) *Result {
	t.Helper()
	res, err := Import(mapFS(files), opts)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

// importDir imports a folder of the repository's testdata.
func importDir(t *testing.T, dir string, opts Options) *Result {
	t.Helper()
	res, err := Import(os.DirFS(dir), opts)
	if err != nil {
		t.Fatalf("import %s: %v", dir, err)
	}
	return res
}

// with returns a copy of files with the given ones replaced.
func with(files map[string]string, kv ...string) map[string]string {
	out := maps.Clone(files)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}

// loadWritten writes the files of res to a new folder and loads them with
// privdns's configuration loader.
func loadWritten(t *testing.T, res *Result) *config.Config {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, res.Files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatalf("the written configuration does not load: %v\n%s", err, res.Files[ConfigFile])
	}
	return cfg
}

func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	return ps
}

func containsLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}
