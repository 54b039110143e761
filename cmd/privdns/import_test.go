package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver/resolvertest"
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

// TestImportedEstateAnswersLikeAzure imports each fixture shape, checks it,
// serves it with the real server and asks every record set from a client of
// every network: linked networks get the records, others do not (their
// names go to the public path, NXDOMAIN here), unknown clients are refused.
func TestImportedEstateAnswersLikeAzure(t *testing.T) {
	public := resolvertest.New(t, resolvertest.MustPublic(". 60 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400"))
	onprem := resolvertest.New(t, resolvertest.MustPublic(". 60 IN SOA ns.onprem. hostmaster.onprem. 1 1800 900 604800 60"))
	for _, shape := range []string{"cli", "arm"} {
		t.Run(shape, func(t *testing.T) {
			from := filepath.Join("..", "..", "testdata", "azure", shape)
			out := filepath.Join(t.TempDir(), "imported")
			stdout, stderr, code := run(t, "import", "azure", "--from", from, "--out", out, "--upstream", public.Addr)
			if code != 0 {
				t.Fatalf("import: exit %d\n%s\n%s", code, stdout, stderr)
			}
			conf := filepath.Join(out, "privdns.yaml")
			if _, stderr, code := run(t, "check", "--config", conf); code != 0 {
				t.Fatalf("check: exit %d\n%s", code, stderr)
			}
			cfg, err := config.Load(conf)
			if err != nil {
				t.Fatal(err)
			}
			// Loopback stands in for Azure: each network gets a 127.0.x.0/24
			// of its own, rule targets become a fake on-premises server.
			clients := map[string]string{} // network name → a client address
			for i := range cfg.Networks {
				n := &cfg.Networks[i]
				n.AddressPrefixes = []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("127.0.%d.0/24", 10+i))}
				clients[n.Name] = fmt.Sprintf("127.0.%d.5", 10+i)
			}
			for i := range cfg.ForwardingRulesets {
				for j := range cfg.ForwardingRulesets[i].Rules {
					cfg.ForwardingRulesets[i].Rules[j].Targets = []string{onprem.Addr}
				}
			}
			cfg.Server.Listeners = []config.Listener{{Address: "127.0.0.1:0"}}
			cfg.Server.HTTP = ""
			srv, err := startServer(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			addr := srv.addrs()[0]

			e := readAzureEstate(t, from)
			if len(e.sets) < 30 || len(clients) != len(e.vnets) {
				t.Fatalf("fixture: %d record sets, %d VNets, %d networks", len(e.sets), len(e.vnets), len(clients))
			}
			asked, answered := 0, 0
			for _, s := range e.sets {
				zone := fqdn(e.zones[s.zoneID])
				qname := zone
				if s.name != "@" {
					qname = strings.Replace(s.name, "*", "wildcard-probe", 1) + "." + zone
				}
				qtype := dns.StringToType[s.typ]
				for vnetID := range e.vnets {
					network := e.networkName(vnetID)
					src := clients[network]
					linked, covered := e.linked(s.zoneID, vnetID) != nil, false
					for zid := range e.links {
						if e.linked(zid, vnetID) != nil && dns.IsSubDomain(fqdn(e.zones[zid]), qname) {
							covered = true
						}
					}
					proto := "udp"
					if asked%3 == 0 {
						proto = "tcp"
					}
					m := ask(t, proto, src, addr, qname, qtype, true)
					asked++
					got := answerData(t, m, qname, qtype, s.ttl)
					switch {
					case linked:
						answered++
						if m.Rcode != dns.RcodeSuccess || !slices.Equal(got, s.want) {
							t.Errorf("%s %s from %s (%s, linked): %s %q, want %q", qname, s.typ, src, network, dns.RcodeToString[m.Rcode], got, s.want)
						}
					case slices.Equal(got, s.want):
						t.Errorf("%s %s from %s (%s, not linked to zone %s): answered %q", qname, s.typ, src, network, s.zoneID, got)
					case !covered && m.Rcode != dns.RcodeNameError:
						t.Errorf("%s %s from %s (%s, no linked zone): %s, want the public NXDOMAIN", qname, s.typ, src, network, dns.RcodeToString[m.Rcode])
					}
				}
				if m := ask(t, "udp", "127.0.99.5", addr, qname, qtype, true); m.Rcode != dns.RcodeRefused {
					t.Errorf("%s from an unknown client: %s, want REFUSED", qname, dns.RcodeToString[m.Rcode])
				}
			}
			t.Logf("%d record sets asked %d times, %d from linked networks", len(e.sets), asked, answered)

			// A missing name answers by its link's policy (R4, R8): the EDE
			// names the imported link and its policy.
			for zid, links := range e.links {
				qname := "privdns-missing-probe." + fqdn(e.zones[zid])
				for _, l := range links {
					m := ask(t, "udp", clients[e.networkName(l.vnet)], addr, qname, dns.TypeA, true)
					want := fmt.Sprintf("(link %s, %s)", l.name, l.policy)
					if texts := edeOf(m); m.Rcode != dns.RcodeNameError || len(texts) != 1 || !strings.Contains(texts[0], want) {
						t.Errorf("%s from %s: %s %q, want NXDOMAIN with %q", qname, l.vnet, dns.RcodeToString[m.Rcode], texts, want)
					}
				}
			}

			// Forwarding rules: enabled ones reach their (stand-in) target
			// from the networks of their ruleset only; a disabled one never.
			for _, tc := range []struct {
				network, qname string
				onprem         bool
			}{
				{"vnet-hub", "dc01.corp.contoso.com", true},
				{"rg-prod-vnet-app", "dc01.corp.contoso.com", true},
				{"rg-dev-vnet-app", "dc01.corp.contoso.com", false},
				{"vnet-isolated", "dc01.corp.contoso.com", false},
				{"vnet-hub", "old.legacy.contoso.com", false},
				{"vnet-spoke", "www.example.org", true}, // the "." rule
				{"vnet-hub", "www.example.org", false},
			} {
				before := onprem.Hits()
				// A name of its own per case: answers are cached per route.
				ask(t, "udp", clients[tc.network], addr, tc.network+"-probe."+tc.qname, dns.TypeA, true)
				if went := onprem.Hits() > before; went != tc.onprem {
					t.Errorf("%s from %s: reached the rule's target %v, want %v", tc.qname, tc.network, went, tc.onprem)
				}
			}
		})
	}
}

func TestImportCommandErrorsWriteNothing(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "azure", "cli")
	good := func(t *testing.T) string {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, from string)
		args  []string
		want  []string
	}{
		{"malformed JSON", func(t *testing.T, from string) {
			os.WriteFile(filepath.Join(from, "links", "rg-hub-10.10.in-addr.arpa.json"), []byte("[\n  {\"id\": 1,,}\n]"), 0o644)
		}, nil, []string{"links/rg-hub-10.10.in-addr.arpa.json:2:12: malformed JSON", "1 problem(s); nothing written to"}},
		{"a link to a VNet not in the input", func(t *testing.T, from string) {
			p := filepath.Join(from, "links", "rg-hub-privatelink.blob.core.windows.net.json")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(data), "virtualNetworks/vnet-spoke", "virtualNetworks/vnet-gone", 1)), 0o644)
		}, nil, []string{"links/rg-hub-privatelink.blob.core.windows.net.json: [2].virtualNetwork.id: VNet /subscriptions/0b7d2e94-81c3-4f6a-a2d8-5e9c3f71b6a2/resourceGroups/rg-spoke/providers/Microsoft.Network/virtualNetworks/vnet-gone is not in the input"}},
		{"VNets missing", func(t *testing.T, from string) { os.Remove(filepath.Join(from, "vnets.json")) },
			nil, []string{"ruleset-links/rg-hub-rs-onprem.json: [0].virtualNetwork.id: VNet", "links/rg-hub-internal.contoso.com.json: [2].virtualNetwork.id"}},
		{"a bad --autoregistered", nil, []string{"--autoregistered", "some"}, []string{`--autoregistered "some": want records or skip`}},
		{"a bad --upstream", nil, []string{"--upstream", "dns.google"}, []string{`--upstream "dns.google": want HOST:PORT with an IP address`}},
		{"--from is no folder", nil, []string{"--from", "/nonexistent/azure"}, []string{"--from /nonexistent/azure: not a folder"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from := good(t)
			if tc.setup != nil {
				tc.setup(t, from)
			}
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"import", "azure", "--from", from, "--out", out}, tc.args...)
			_, stderr, code := run(t, args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written", out)
			}
			if names, _ := os.ReadDir(filepath.Dir(out)); len(names) != 0 {
				t.Errorf("left behind: %v", names)
			}
		})
	}
}

func TestImportCommandRefusesANonEmptyOutUnlessForced(t *testing.T) {
	from := filepath.Join("..", "..", "testdata", "azure", "arm")
	out := t.TempDir()
	keep := filepath.Join(out, "notes.txt")
	os.WriteFile(keep, []byte("mine\n"), 0o644)
	_, stderr, code := run(t, "import", "azure", "--from", from, "--out", out)
	if code != 1 || !strings.Contains(stderr, "the output folder is not empty (give --force to replace it)") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if data, _ := os.ReadFile(keep); string(data) != "mine\n" {
		t.Fatal("a refused import changed --out")
	}
	stdout, stderr, code := run(t, "import", "azure", "--from", from, "--out", out, "--force", "--autoregistered", "skip")
	if code != 0 {
		t.Fatalf("--force: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(keep); !os.IsNotExist(err) {
		t.Error("--force kept the old contents")
	}
	for _, want := range []string{"zone internal.contoso.com (resource group rg-hub): 19 record sets (2 auto-registered left out), 3 links -> zones/internal.contoso.com.zone", "wrote " + filepath.Join(out, "privdns.yaml") + " and 5 zone files"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, want := range []string{"notice: README.txt: skipped (not a .json file)", "notice: dns-resolvers.json: value[0]: skipped an object of type Microsoft.Network/dnsResolvers", "notice: upstreams: none given"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// --force never replaces the folder holding the input.
	if _, stderr, code := run(t, "import", "azure", "--from", from, "--out", filepath.Dir(from), "--force"); code != 1 || !strings.Contains(stderr, "is replaced as a whole") {
		t.Errorf("--out above --from: exit %d\n%s", code, stderr)
	}
}

// TestImportProcessThenCheck runs the commands as a user does.
func TestImportProcessThenCheck(t *testing.T) {
	out := filepath.Join(t.TempDir(), "privdns")
	from, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "azure", "cli"))
	for _, args := range [][]string{
		{"import", "azure", "--from", from, "--out", out, "--upstream", "168.63.129.16:53"},
		{"check", "--config", filepath.Join(out, "privdns.yaml")},
	} {
		cmd, output := privdnsProcess(t, t.TempDir(), args...)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, output)
		}
		if args[0] == "check" && !strings.Contains(output.String(), "OK: 5 networks, 5 zones, 10 links, 4 forwarding rules") {
			t.Errorf("check said:\n%s", output)
		}
	}
}

func TestRegistrationDataDirFollowsTheConfiguration(t *testing.T) {
	// This build's configuration has no server.dataDir (SPEC §9 is not
	// built yet); once it has, imports with registration links set it.
	_, err := config.Parse([]byte("server: {dataDir: data}\nupstreams: {servers: [\"192.0.2.1\"]}\n"), "yaml", "")
	if want := map[bool]string{true: "data", false: ""}[err == nil]; registrationDataDir() != want {
		t.Errorf("registrationDataDir() = %q with the configuration saying %v", registrationDataDir(), err)
	}
}
