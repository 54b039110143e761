package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// startUnbound runs a real Unbound on loopback serving local data, as the
// "public internet" upstream; the test is skipped where Unbound is not
// installed (CI installs it).
func startUnbound(t *testing.T, localData []string) string {
	t.Helper()
	path, err := exec.LookPath("unbound")
	if err != nil {
		t.Skip("unbound not installed (apt-get install unbound)")
	}
	dir := t.TempDir()
	addr := freePort(t)
	host, port, _ := strings.Cut(addr, ":")
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  interface: %s@%s\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n", host, port)
	fmt.Fprintf(&b, "  directory: %q\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n  access-control: 127.0.0.0/8 allow\n  num-threads: 1\n", dir)
	b.WriteString("  local-zone: \"core.windows.net.\" static\n  local-zone: \"example.com.\" static\n")
	for _, d := range localData {
		fmt.Fprintf(&b, "  local-data: %q\n", d)
	}
	conf := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "-d", "-c", conf)
	out := &lockedOutput{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually(t, "unbound to answer", func() bool {
		_, err := askErr("udp", "127.0.0.1", addr, "www.example.com", dns.TypeA, true)
		return err == nil
	})
	return addr
}

func TestAgainstARealUnboundUpstream(t *testing.T) {
	up := startUnbound(t, []string{
		"core.windows.net. 3600 IN SOA ns1-01.azure-dns.com. azuredns-hostmaster.microsoft.com. 1 3600 300 2419200 300",
		"example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300",
		"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net.",
		"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net.",
		"fabrikam.privatelink.blob.core.windows.net. 60 IN CNAME blob.am5.store.core.windows.net.",
		"blob.am5.store.core.windows.net. 60 IN A 20.60.222.33",
		"www.example.com. 300 IN A 93.184.215.14",
	})
	s := serveText(t, "", fmt.Sprintf(`
server: {listeners: [{address: "127.0.0.1:0"}], http: ""}
upstreams: {servers: [%q], timeout: 1s}
networks:
  - {name: bob, addressPrefixes: ["127.0.1.0/24"]}
  - {name: alice, addressPrefixes: ["127.0.2.0/24"]}
zones:
  - name: privatelink.blob.core.windows.net
    records: ["contoso 10 IN A 10.1.0.5"]
    links: [{name: bob-link, network: bob}, {name: alice-link, network: alice, resolutionPolicy: NxDomainRedirect}]
`, up))
	addr := s.addrs()[0]
	cases := []struct {
		src, qname string
		qtype      uint16
		wantRcode  int
		wantLast   string // the last answer record's data, "" for none
		wantSOA    string // owner of the authority SOA, "" for none
	}{
		{"127.0.1.5", "contoso.blob.core.windows.net", dns.TypeA, dns.RcodeSuccess, "10.1.0.5", ""},
		{"127.0.2.5", "contoso.blob.core.windows.net", dns.TypeA, dns.RcodeSuccess, "10.1.0.5", ""},
		{"127.0.1.5", "fabrikam.blob.core.windows.net", dns.TypeA, dns.RcodeNameError, "fabrikam.privatelink.blob.core.windows.net.", "privatelink.blob.core.windows.net."},
		{"127.0.2.5", "fabrikam.blob.core.windows.net", dns.TypeA, dns.RcodeSuccess, "20.60.222.33", ""},
		{"127.0.1.5", "www.example.com", dns.TypeA, dns.RcodeSuccess, "93.184.215.14", ""},
		{"127.0.1.5", "nothing.example.com", dns.TypeA, dns.RcodeNameError, "", "example.com."},
		{"127.0.1.5", "www.example.com", dns.TypeAAAA, dns.RcodeSuccess, "", "example.com."},
	}
	for _, tc := range cases {
		for _, proto := range []string{"udp", "tcp"} {
			m := ask(t, proto, tc.src, addr, tc.qname, tc.qtype, true)
			last := ""
			if n := len(m.Answer); n > 0 {
				last = strings.Fields(m.Answer[n-1].String())[4]
			}
			soa := ""
			for _, rr := range m.Ns {
				if rr.Header().Rrtype == dns.TypeSOA {
					soa = rr.Header().Name
				}
			}
			if m.Rcode != tc.wantRcode || last != tc.wantLast || soa != tc.wantSOA {
				t.Errorf("%s %s %s from %s: %s last %q SOA %q, want %s %q %q\n%v", proto, tc.qname, dns.TypeToString[tc.qtype], tc.src,
					dns.RcodeToString[m.Rcode], last, soa, dns.RcodeToString[tc.wantRcode], tc.wantLast, tc.wantSOA, m)
			}
		}
	}
}
