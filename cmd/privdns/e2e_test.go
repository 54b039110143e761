package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// e2eConfig is a whole deployment: two networks by source address, one
// more through a listener bound to it, a zone file, inline records, a
// forwarding rule. %s are the fake public and on-premises resolvers.
const e2eConfig = `
server:
  listeners:
    - address: "127.0.0.1:0"
    - address: "127.0.0.1:0"
      network: vnet-alice
  http: ""
  identity: e2e-1
upstreams:
  servers: ["%s"]
  timeout: 1s
networks:
  - name: vnet-bob
    addressPrefixes: ["127.0.1.0/24"]
  - name: vnet-alice
    addressPrefixes: ["127.0.2.0/24"]
zones:
  - name: privatelink.blob.core.windows.net
    file: blob.zone
    links:
      - { name: bob-link, network: vnet-bob }
      - { name: alice-link, network: vnet-alice, resolutionPolicy: NxDomainRedirect }
  - name: big.example
    records: [%s]
    links:
      - { name: big-bob, network: vnet-bob }
forwardingRulesets:
  - name: onprem
    networks: [vnet-bob]
    rules:
      - { domain: corp.contoso.com., targets: ["%s"] }
`

// serveText writes text as privdns.yaml in dir (a new folder when ""),
// loads it like serve does and starts the server until the test ends.
func serveText(t *testing.T, dir, text string) *server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	file := filepath.Join(dir, "privdns.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	srv, err := startServer(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

type e2e struct {
	srv    *server
	byNet  string // listener choosing the network by source
	asNet  string // listener bound to vnet-alice
	public *resolvertest.Server
}

func startE2E(t *testing.T) *e2e {
	t.Helper()
	public := resolvertest.New(t, resolvertest.MustPublic(
		"core.windows.net. 3600 IN SOA ns1-01.azure-dns.com. azuredns-hostmaster.microsoft.com. 1 3600 300 2419200 300",
		"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net.",
		"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net.",
		"fabrikam.privatelink.blob.core.windows.net. 60 IN CNAME blob.am5.store.core.windows.net.",
		"blob.am5.store.core.windows.net. 60 IN A 20.60.222.33",
		"www.contoso.com. 300 IN CNAME app.corp.contoso.com.",
	))
	onprem := resolvertest.New(t, resolvertest.MustPublic("app.corp.contoso.com. 300 IN A 10.10.1.20"))
	dir := t.TempDir()
	zone := "$ORIGIN privatelink.blob.core.windows.net.\ncontoso 10 IN A 10.1.0.5\n"
	if err := os.WriteFile(filepath.Join(dir, "blob.zone"), []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	var big []string
	for i := 0; i < 40; i++ {
		big = append(big, fmt.Sprintf(`"txt 300 IN TXT \"record %02d %s\""`, i, strings.Repeat("x", 50)))
	}
	srv := serveText(t, dir, fmt.Sprintf(e2eConfig, public.Addr, strings.Join(big, ", "), onprem.Addr))
	if a := srv.httpAddr(); a != "" {
		t.Fatalf("server.http \"\" must turn HTTP off; it listens on %s", a)
	}
	addrs := srv.addrs()
	return &e2e{srv: srv, byNet: addrs[0], asNet: addrs[1], public: public}
}

func ask(t *testing.T, proto, src, addr, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	resp, err := askErr(proto, src, addr, name, qtype, edns)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// askErr sends one query from src; safe to call from any goroutine.
func askErr(proto, src, addr, name string, qtype uint16, edns bool) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	resp, err := resolvertest.TryExchangeFrom(proto, src, addr, m)
	if err != nil {
		return nil, fmt.Errorf("%s %s from %s: %w", proto, name, src, err)
	}
	return resp, nil
}

func lastA(m *dns.Msg) string {
	for i := len(m.Answer) - 1; i >= 0; i-- {
		if a, ok := m.Answer[i].(*dns.A); ok {
			return a.A.String()
		}
	}
	return ""
}

func TestEndToEnd(t *testing.T) {
	e := startE2E(t)
	cases := []struct {
		name, src, listener, qname string
		wantRcode                  int
		wantA                      string
		wantEDE                    string
	}{
		{"Bob's own account through the public CNAME", "127.0.1.5", e.byNet, "contoso.blob.core.windows.net", dns.RcodeSuccess, "10.1.0.5", ""},
		{"Bob's bad day: Default NXDOMAIN", "127.0.1.5", e.byNet, "fabrikam.blob.core.windows.net", dns.RcodeNameError, "", "(link bob-link, Default)"},
		{"Alice falls back to the public answer", "127.0.2.5", e.byNet, "fabrikam.blob.core.windows.net", dns.RcodeSuccess, "20.60.222.33", "(link alice-link, NxDomainRedirect)"},
		{"a listener bound to vnet-alice ignores Bob's source", "127.0.1.5", e.asNet, "fabrikam.blob.core.windows.net", dns.RcodeSuccess, "20.60.222.33", "alice-link"},
		{"the on-premises rule answers Bob", "127.0.1.5", e.byNet, "www.contoso.com", dns.RcodeSuccess, "10.10.1.20", ""},
		{"Alice has no rule: public NXDOMAIN", "127.0.2.5", e.byNet, "www.contoso.com", dns.RcodeNameError, "", ""},
		{"an unknown client is refused", "127.0.3.5", e.byNet, "contoso.blob.core.windows.net", dns.RcodeRefused, "", ""},
	}
	for _, tc := range cases {
		for _, proto := range []string{"udp", "tcp"} {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				resp := ask(t, proto, tc.src, tc.listener, tc.qname, dns.TypeA, true)
				if resp.Rcode != tc.wantRcode || lastA(resp) != tc.wantA {
					t.Errorf("rcode %s A %q, want %s %q\n%v", dns.RcodeToString[resp.Rcode], lastA(resp), dns.RcodeToString[tc.wantRcode], tc.wantA, resp)
				}
				texts := edeOf(resp)
				if tc.wantEDE != "" && (len(texts) != 1 || !strings.Contains(texts[0], tc.wantEDE)) {
					t.Errorf("EDE %q, want %q", texts, tc.wantEDE)
				}
				if !resp.RecursionAvailable || resp.Authoritative {
					t.Errorf("RA=%v AA=%v", resp.RecursionAvailable, resp.Authoritative)
				}
			})
		}
	}
}

func TestEndToEndTruncationAndTCPRetry(t *testing.T) {
	e := startE2E(t)
	udp := ask(t, "udp", "127.0.1.5", e.byNet, "txt.big.example", dns.TypeTXT, false)
	if !udp.Truncated || len(udp.Answer) >= 40 {
		t.Fatalf("UDP without EDNS: TC=%v with %d records, want TC and fewer than 40", udp.Truncated, len(udp.Answer))
	}
	// What a stub resolver does on TC: ask again over TCP.
	tcp := ask(t, "tcp", "127.0.1.5", e.byNet, "txt.big.example", dns.TypeTXT, false)
	if tcp.Truncated || len(tcp.Answer) != 40 {
		t.Fatalf("TCP: TC=%v with %d records, want all 40", tcp.Truncated, len(tcp.Answer))
	}
	// dig's default behaviour, through miekg's client: EDNS 1232 over UDP
	// is still too small, TCP completes it.
	if r := ask(t, "udp", "127.0.1.5", e.byNet, "txt.big.example", dns.TypeTXT, true); !r.Truncated {
		t.Errorf("UDP with EDNS 1232: not truncated")
	}
}

func TestEndToEndNetworksAreIsolatedUnderLoad(t *testing.T) {
	// Several sources over both protocols at once: each network must only
	// ever see its own answers.
	e := startE2E(t)
	type result struct{ src, got string }
	results := make(chan result, 64)
	for i := 0; i < 8; i++ {
		src := fmt.Sprintf("127.0.%d.%d", 1+i%2, 10+i)
		proto := []string{"udp", "tcp"}[i%4/2]
		go func() {
			for j := 0; j < 8; j++ {
				m, err := askErr(proto, src, e.byNet, "fabrikam.blob.core.windows.net", dns.TypeA, true)
				if err != nil {
					results <- result{src, err.Error()}
					continue
				}
				results <- result{src, dns.RcodeToString[m.Rcode] + " " + lastA(m)}
			}
		}()
	}
	for k := 0; k < 64; k++ {
		r := <-results
		want := "NXDOMAIN "
		if strings.HasPrefix(r.src, "127.0.2.") {
			want = "NOERROR 20.60.222.33"
		}
		if r.got != want {
			t.Errorf("%s got %q, want %q", r.src, r.got, want)
		}
	}
}
