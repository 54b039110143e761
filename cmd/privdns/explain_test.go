package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
)

func TestExplainUpstreamAgreesWithTheDemo(t *testing.T) {
	d, err := startDemo(demoOptions{Dir: exampleDir, Level: "error", ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, errOut, code := run(t, "explain", "--config", filepath.Join(exampleDir, "privdns.yaml"), "--upstream", d.public.Addr,
		"--from", "127.0.0.2", "fabrikam.blob.core.windows.net")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "via upstreams ["+d.public.Addr+"]") || !strings.Contains(out, "final: NOERROR") {
		t.Errorf("explain did not ask the given upstream:\n%s", out)
	}
	m := ask(t, "udp", "127.0.0.2", d.listen, "fabrikam.blob.core.windows.net", dns.TypeA, true)
	if len(m.Answer) != 3 {
		t.Fatalf("the demo answers %v", m)
	}
	for _, rr := range m.Answer {
		f := strings.Fields(rr.String())
		line := f[0] + " " + strings.Join(f[2:], " ") // no TTL: the demo's may have counted down
		got := ""
		for _, l := range strings.Split(out, "\n") {
			if g := strings.Fields(l); len(g) > 3 && g[0] == f[0] && strings.Join(append(g[:1:1], g[2:]...), " ") == line {
				got = l
			}
		}
		if got == "" {
			t.Errorf("explain's answer lacks %q that the demo answers:\n%s", line, out)
		}
	}
}

func TestExplainSaysAnUpstreamErrorOnce(t *testing.T) {
	refusing := resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeRefused)
		w.WriteMsg(m) //nolint:errcheck // the client notices
	}))
	file := filepath.Join(writeFiles(t, map[string]string{"privdns.yaml": fmt.Sprintf(
		"upstreams: {servers: [%q], timeout: 500ms}\nnetworks: [{name: n, addressPrefixes: [10.0.0.0/8]}]\n", refusing.Addr)}), "privdns.yaml")
	out, errOut, code := run(t, "explain", "--config", file, "--from", "10.1.2.3", "www.example.com")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "REFUSED"); n != 1 {
		t.Errorf("the upstream's REFUSED is said %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "final: SERVFAIL (the error of step 2)") {
		t.Errorf("the final line does not refer to step 2:\n%s", out)
	}
}

func TestExplainShowsThePolicyFromDefaults(t *testing.T) {
	file := filepath.Join(writeFiles(t, map[string]string{"privdns.yaml": `
defaults: {resolutionPolicy: NxDomainRedirect}
upstreams: {servers: ["127.0.0.1:9"], timeout: 100ms}
networks: [{name: n, addressPrefixes: [10.0.0.0/8]}]
zones:
  - {name: privatelink.blob.core.windows.net, links: [{name: l, network: n}]}
`}), "privdns.yaml")
	out, errOut, code := run(t, "explain", "--config", file, "--from", "10.1.2.3", "--upstream", busyPort(t), "x.privatelink.blob.core.windows.net")
	if code != 0 || !strings.Contains(out, "(link l, NxDomainRedirect): x.privatelink.blob.core.windows.net. does not exist → fallback") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
