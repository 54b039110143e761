package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// docsFile is the configuration reference, from this package.
const docsFile = "../docs/configuration.md"

// specKeys are the keys SPEC §3, §6, §8, §9 and §10 name: the reference
// lists every one, implemented or not.
var specKeys = []string{
	"server.listeners[].address", "server.listeners[].network", "server.http", "server.identity", "server.explain",
	"server.unknownClients", "server.log.level", "server.log.format", "server.log.queries", "server.log.querySampling",
	"upstreams.servers", "upstreams.policy", "upstreams.timeout",
	"networks[].name", "networks[].addressPrefixes",
	"zones[].name", "zones[].file", "zones[].records", "zones[].links[].name", "zones[].links[].network",
	"zones[].links[].resolutionPolicy", "zones[].links[].registrationEnabled", "zones[].links[].fallbackTypes",
	"forwardingRulesets[].name", "forwardingRulesets[].networks", "forwardingRulesets[].rules[].domain",
	"forwardingRulesets[].rules[].targets", "forwardingRulesets[].rules[].state",
	"cache.maxEntries", "cache.minTTL", "cache.maxTTL", "cache.maxNegativeTTL", "cache.serveStale.enabled",
	"cache.serveStale.answerTTL", "cache.serveStale.maxAge", "cache.prefetch",
	// §6
	"server.limits.inFlight", "server.limits.tcpConnections", "server.limits.tcpIdleTimeout",
	"server.limits.tcpQueriesPerConnection", "server.limits.upstreamQueriesPerQuery",
	"server.rateLimit.enabled", "server.rateLimit.queriesPerSecond", "server.rateLimit.burst", "server.rateLimit.slip",
	"server.rateLimit.exempt",
	// §8
	"zones[].primaries", "zones[].tsigKey", "zones[].transfer.allow", "zones[].transfer.tsigKey", "zones[].transfer.notify",
	"tsigKeys[].name", "tsigKeys[].algorithm", "tsigKeys[].secret", "tsigKeys[].secretFile", "server.dataDir",
	// §9
	"zones[].registration.ttl", "zones[].registration.expireAfter", "zones[].registration.tsigKeys",
	"zones[].registration.primary", "zones[].registration.primaryKey",
	// §10
	"server.admin", "server.localZones", "defaults.resolutionPolicy",
}

// transferKeys sets the keys of zone transfer, which full.yaml leaves out.
const transferKeys = `
tsigKeys: [{name: k, algorithm: hmac-sha256, secret: c2VjcmV0, secretFile: k.key}]
zones:
  - {name: a.example, primaries: [10.0.0.1], tsigKey: k}
  - {name: b.example, transfer: {allow: [10.0.0.0/8], tsigKey: k, notify: [10.0.0.2]}}
  - {name: c.example, registration: {ttl: 10s, expireAfter: 1h, tsigKeys: [k], primary: "10.0.0.9:53", primaryKey: k}}
`

// docRow is one key of the reference's tables.
type docRow struct {
	key     string
	pending bool // marked "Not implemented yet"
}

var docRowRE = regexp.MustCompile("^\\| `([A-Za-z.\\[\\]]+)` \\|(.*)\\|$")

func docRows(t *testing.T) map[string]docRow {
	t.Helper()
	text, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]docRow{}
	for _, line := range strings.Split(string(text), "\n") {
		m := docRowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, dup := rows[m[1]]; dup {
			t.Errorf("%s: %s is documented twice", docsFile, m[1])
		}
		rows[m[1]] = docRow{key: m[1], pending: strings.Contains(m[2], "**Not implemented yet"+".**")}
	}
	return rows
}

// readKeys are the keys the loader reads, as the reference spells them
// ("zones[].links[].name"), and among them the leaves, which hold values.
func readKeys(t *testing.T) (all map[string]bool, leaves []string) {
	t.Helper()
	full, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	index := regexp.MustCompile(`\[\d+\]`)
	all = map[string]bool{}
	// The decoder reads a list item's keys only when there is an item:
	// full.yaml, and what it leaves out (a secondary zone and its keys).
	for _, data := range [][]byte{full, []byte(transferKeys)} {
		r := newReport("full.yaml", nil)
		tree, err := read(r, data, "yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		decode(node{r: r, m: tree})
		for _, k := range r.known {
			if !strings.HasSuffix(k, "]") { // list items are their list's values
				all[index.ReplaceAllString(k, "[]")] = true
			}
		}
	}
	for k := range all {
		parent := false
		for other := range all {
			parent = parent || strings.HasPrefix(other, k+".") || strings.HasPrefix(other, k+"[].")
		}
		if !parent {
			leaves = append(leaves, k)
		}
	}
	slices.Sort(leaves)
	return all, leaves
}

func TestTheReferenceDocumentsEveryKeyTruthfully(t *testing.T) {
	rows := docRows(t)
	known, read := readKeys(t)
	if len(read) < 30 {
		t.Fatalf("the loader reads only %v: testdata/full.yaml must set every key", read)
	}
	for _, k := range read {
		row, ok := rows[k]
		switch {
		case !ok:
			t.Errorf("%s is read by the loader but not in %s", k, docsFile)
		case row.pending:
			t.Errorf("%s is read by the loader but marked not implemented in %s", k, docsFile)
		}
	}
	for k, row := range rows {
		if !row.pending && !known[k] {
			t.Errorf("%s is documented as implemented, but the loader does not read it (mark it **Not implemented yet.**)", k)
		}
	}
	for _, k := range specKeys {
		if _, ok := rows[k]; !ok {
			t.Errorf("SPEC key %s is missing from %s", k, docsFile)
		}
	}
}

// What the reference marks not implemented must be what the loader
// refuses: a file that relies on such a key fails to load.
func TestKeysMarkedNotImplementedAreRejected(t *testing.T) {
	for k, row := range docRows(t) {
		if !row.pending {
			continue
		}
		text := yamlFor(k)
		dir := writeFiles(t, map[string]string{"privdns.yaml": minimal + text})
		errs := problemsOf(t, dir+"/privdns.yaml")
		unknown := false
		for _, p := range errs {
			unknown = unknown || strings.HasPrefix(p.Msg, "unknown key")
		}
		if !unknown {
			t.Errorf("%s is marked not implemented, yet loading\n%s\ngives %v, not an unknown key", k, text, errs)
		}
	}
}

// yamlFor writes a key path as YAML holding the value 1; each list is one
// item, named z.example unless the key is the name itself.
func yamlFor(key string) string {
	text, err := yaml.Marshal(valueFor(strings.Split(key, ".")))
	if err != nil {
		panic(err)
	}
	return string(text)
}

func valueFor(parts []string) any {
	if len(parts) == 0 {
		return 1
	}
	name, list := strings.CutSuffix(parts[0], "[]")
	child := valueFor(parts[1:])
	if list {
		item, _ := child.(map[string]any)
		if _, ok := item["name"]; !ok {
			item["name"] = "z.example"
		}
		child = []any{item}
	}
	return map[string]any{name: child}
}
