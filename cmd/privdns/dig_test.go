package main

import (
	"net"
	"os/exec"
	"strings"
	"testing"
)

// digTool runs a real DNS client (dig or kdig) against addr and returns its
// output; the test is skipped where the tool is not installed (CI installs
// both).
func digTool(t *testing.T, tool, addr string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed (apt-get install bind9-dnsutils knot-dnsutils)", tool)
	}
	host, port, _ := net.SplitHostPort(addr)
	all := append([]string{"@" + host, "-p", port}, args...)
	out, err := exec.Command(path, all...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(all, " "), err, out)
	}
	return string(out)
}

func TestRealClients(t *testing.T) {
	e := startE2E(t)
	cases := []struct {
		name string
		tool string
		args []string
		want []string
	}{
		{"dig sees Bob's NXDOMAIN explained", "dig", []string{"-b", "127.0.1.5", "fabrikam.blob.core.windows.net"}, []string{
			"status: NXDOMAIN", "flags: qr rd ra;",
			"EDE: 0 (Other): (privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link bob-link, Default))",
			"privatelink.blob.core.windows.net. 10 IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10"}},
		{"dig over TCP sees Alice's fallback", "dig", []string{"+tcp", "-b", "127.0.2.5", "fabrikam.blob.core.windows.net"}, []string{
			"status: NOERROR", "blob.am5.store.core.windows.net. 60 IN A 20.60.222.33", "(link alice-link, NxDomainRedirect)", "(TCP)"}},
		{"dig retries a truncated answer over TCP", "dig", []string{"-b", "127.0.1.5", "+noedns", "txt.big.example", "TXT"}, []string{
			"Truncated, retrying in TCP mode", "ANSWER: 40"}},
		{"dig +nsid shows the identity", "dig", []string{"-b", "127.0.1.5", "+nsid", "contoso.privatelink.blob.core.windows.net"}, []string{
			`NSID: 65 32 65 2d 31 ("e2e-1")`, "10.1.0.5"}},
		{"dig CHAOS id.server", "dig", []string{"-b", "127.0.1.5", "CH", "TXT", "id.server"}, []string{`id.server. 0 CH TXT "e2e-1"`}},
		{"dig CHAOS id.server from no network is refused", "dig", []string{"-b", "127.0.3.5", "CH", "TXT", "id.server"}, []string{"status: REFUSED"}},
		{"an unknown client is refused", "dig", []string{"-b", "127.0.3.5", "contoso.blob.core.windows.net"}, []string{"status: REFUSED"}},
		{"kdig sees the private answer through the public CNAME", "kdig", []string{"-b", "127.0.1.5", "contoso.blob.core.windows.net"}, []string{
			"status: NOERROR", "contoso.privatelink.blob.core.windows.net. 10 IN A 10.1.0.5"}},
		{"kdig over TCP with EDNS sees the EDE", "kdig", []string{"+tcp", "+edns", "-b", "127.0.1.5", "fabrikam.blob.core.windows.net"}, []string{
			"status: NXDOMAIN", "EDE: 0 (Other): 'privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link bob-link, Default)'"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := digTool(t, tc.tool, e.byNet, tc.args...)
			norm := strings.Join(strings.Fields(out), " ")
			for _, w := range tc.want {
				if !strings.Contains(norm, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("%s output lacks %q:\n%s", tc.tool, w, out)
				}
			}
		})
	}
}
