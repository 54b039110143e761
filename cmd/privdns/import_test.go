package main

import (
	"fmt"
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
			s := serveImported(t, from, public.Addr, onprem.Addr)
			e := readAzureEstate(t, from)
			if len(e.sets) < 30 || len(s.clients) != len(e.vnets) {
				t.Fatalf("fixture: %d record sets, %d VNets, %d networks", len(e.sets), len(e.vnets), len(s.clients))
			}
			s.askEveryRecordSet(t, e)
			s.askMissingNames(t, e)
			s.askRules(t, onprem)
		})
	}
}

// importedServer is an imported estate served on loopback.
type importedServer struct {
	addr    string
	clients map[string]string // network name → an address of a client in it
}

// serveImported imports from with the command line, checks the result with
// `privdns check` and serves it. Loopback stands in for Azure: each network
// gets a 127.0.x.0/24 of its own and every rule target becomes onprem.
func serveImported(t *testing.T, from, public, onprem string) *importedServer {
	t.Helper()
	out := filepath.Join(t.TempDir(), "imported")
	stdout, stderr, code := run(t, "import", "azure", "--from", from, "--out", out, "--upstream", public)
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
	s := &importedServer{clients: map[string]string{}}
	for i := range cfg.Networks {
		n := &cfg.Networks[i]
		n.AddressPrefixes = []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("127.0.%d.0/24", 10+i))}
		s.clients[n.Name] = fmt.Sprintf("127.0.%d.5", 10+i)
	}
	for i := range cfg.ForwardingRulesets {
		for j := range cfg.ForwardingRulesets[i].Rules {
			cfg.ForwardingRulesets[i].Rules[j].Targets = []string{onprem}
		}
	}
	cfg.Server.Listeners = []config.Listener{{Address: "127.0.0.1:0"}}
	cfg.Server.HTTP = ""
	srv, err := startServer(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s.addr = srv.addrs()[0]
	return s
}

// askEveryRecordSet asks each record set from each network and from a
// client in none, over UDP and (every third query) TCP.
func (s *importedServer) askEveryRecordSet(t *testing.T, e *azureEstate) {
	asked, answered := 0, 0
	for _, set := range e.sets {
		qname, qtype := set.qname(e), dns.StringToType[set.typ]
		for vnetID := range e.vnets {
			network := e.networkName(vnetID)
			src := s.clients[network]
			proto := "udp"
			if asked%3 == 0 {
				proto = "tcp"
			}
			m := ask(t, proto, src, s.addr, qname, qtype, true)
			asked++
			got := answerData(t, m, qname, qtype, set.ttl)
			switch {
			case e.linked(set.zoneID, vnetID) != nil:
				answered++
				if m.Rcode != dns.RcodeSuccess || !slices.Equal(got, set.want) {
					t.Errorf("%s %s from %s (%s, linked): %s %q, want %q", qname, set.typ, src, network, dns.RcodeToString[m.Rcode], got, set.want)
				}
			case slices.Equal(got, set.want):
				t.Errorf("%s %s from %s (%s, not linked to zone %s): answered %q", qname, set.typ, src, network, set.zoneID, got)
			case !e.covered(vnetID, qname) && m.Rcode != dns.RcodeNameError:
				t.Errorf("%s %s from %s (%s, no linked zone): %s, want the public NXDOMAIN", qname, set.typ, src, network, dns.RcodeToString[m.Rcode])
			}
		}
		if m := ask(t, "udp", "127.0.99.5", s.addr, qname, qtype, true); m.Rcode != dns.RcodeRefused {
			t.Errorf("%s from an unknown client: %s, want REFUSED", qname, dns.RcodeToString[m.Rcode])
		}
	}
	t.Logf("%d record sets asked %d times, %d from linked networks", len(e.sets), asked, answered)
}

// askMissingNames asks a missing name of each zone from each linked
// network: it answers by its link's policy (R4, R8), and the EDE names the
// imported link and its policy.
func (s *importedServer) askMissingNames(t *testing.T, e *azureEstate) {
	for zid, links := range e.links {
		qname := "privdns-missing-probe." + fqdn(e.zones[zid])
		for _, l := range links {
			m := ask(t, "udp", s.clients[e.networkName(l.vnet)], s.addr, qname, dns.TypeA, true)
			want := fmt.Sprintf("(link %s, %s)", l.name, l.policy)
			if texts := edeOf(m); m.Rcode != dns.RcodeNameError || len(texts) != 1 || !strings.Contains(texts[0], want) {
				t.Errorf("%s from %s: %s %q, want NXDOMAIN with %q", qname, l.vnet, dns.RcodeToString[m.Rcode], texts, want)
			}
		}
	}
}

// askRules checks the fixture's forwarding rules: enabled ones reach their
// (stand-in) target from the networks of their ruleset only; a disabled
// one never does.
func (s *importedServer) askRules(t *testing.T, onprem *resolvertest.Server) {
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
		ask(t, "udp", s.clients[tc.network], s.addr, tc.network+"-probe."+tc.qname, dns.TypeA, true)
		if went := onprem.Hits() > before; went != tc.onprem {
			t.Errorf("%s from %s: reached the rule's target %v, want %v", tc.qname, tc.network, went, tc.onprem)
		}
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
