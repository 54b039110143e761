package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privdns/privdns/resolver/resolvertest"
)

// run executes the privdns command line and returns its output and exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case err != nil:
		errOut.WriteString(err.Error())
		code = 1
	}
	return out.String(), errOut.String(), code
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckAcceptsTheExample(t *testing.T) {
	out, errOut, code := run(t, "check", "--config", filepath.Join("..", "..", "testdata", "example", "privdns.yaml"))
	if code != 0 || !strings.Contains(out, "OK: 2 networks, 3 zones, 6 links") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestCheckPrintsEveryErrorWithItsPlace(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"privdns.yaml": `upstreams:
  servers: ["192.0.2.1:53"]
networks:
  - name: vnet-a
    addressPrefixes: ["10.0.0.0/33"]
zones:
  - name: z.example
    file: z.zone
    links:
      - name: l1
        network: vnet-nope
`,
		"z.zone": "$ORIGIN z.example.\nwww 60 IN A 10.0.0.1\nbroken 60 IN A not-an-ip\n",
	})
	_, errOut, code := run(t, "check", "--config", filepath.Join(dir, "privdns.yaml"))
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
	}
	for _, want := range []string{
		"privdns.yaml:5: networks[0].addressPrefixes[0]",
		"privdns.yaml:11: zones[0].links[0].network",
		`z.zone:3: zones[0].file: A record: the address "not-an-ip" is not an IPv4 address`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestServeRefusesABrokenConfiguration(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": "server:\n  listeners: [{address: \"127.0.0.1:0\"}]\n  bogus: 1\nupstreams:\n  servers: [\"192.0.2.1:53\"]\n"})
	_, errOut, code := run(t, "serve", "--config", filepath.Join(dir, "privdns.yaml"))
	if code != 1 || !strings.Contains(errOut, "server.bogus") {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
}

func TestExplainShowsThePath(t *testing.T) {
	public := resolvertest.New(t, resolvertest.MustPublic(
		"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net.",
		"fabrikam.privatelink.blob.core.windows.net. 60 IN CNAME blob.am5.store.core.windows.net.",
		"blob.am5.store.core.windows.net. 60 IN A 20.60.222.33",
	))
	dir := writeFiles(t, map[string]string{"privdns.yaml": fmt.Sprintf(`
upstreams: { servers: ["%s"] }
networks:
  - { name: vnet-bob, addressPrefixes: ["10.1.0.0/16"] }
  - { name: vnet-alice, addressPrefixes: ["10.2.0.0/16"] }
zones:
  - name: privatelink.blob.core.windows.net
    records: ["contoso 10 IN A 10.1.0.5", 'sp\032ace 10 IN A 10.1.0.6']
    links:
      - { name: bob-link, network: vnet-bob }
      - { name: alice-link, network: vnet-alice, resolutionPolicy: NxDomainRedirect }
`, public.Addr)})
	cfg := filepath.Join(dir, "privdns.yaml")
	cases := []struct {
		from string
		want []string
	}{
		{"10.1.2.3", []string{
			"network: vnet-bob (source 10.1.2.3 is in 10.1.0.0/16",
			"public CNAME fabrikam.blob.core.windows.net. → fabrikam.privatelink.blob.core.windows.net. enters linked zone",
			"(link bob-link, Default): fabrikam.privatelink.blob.core.windows.net. does not exist → NXDOMAIN",
			"final: NXDOMAIN",
			"EDE 0 (Other): privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link bob-link, Default)"}},
		{"10.2.2.3", []string{
			"network: vnet-alice",
			"(link alice-link, NxDomainRedirect): fabrikam.privatelink.blob.core.windows.net. does not exist → fallback",
			"final: NOERROR",
			"blob.am5.store.core.windows.net. 60 IN A 20.60.222.33"}},
		{"192.0.2.1", []string{"network: none", "REFUSED"}},
	}
	for _, tc := range cases {
		out, errOut, code := run(t, "explain", "--config", cfg, "--from", tc.from, "fabrikam.blob.core.windows.net", "A")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("from %s: output lacks %q:\n%s", tc.from, w, out)
			}
		}
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"--from", "not-an-ip", "x.example"}, "not an IP"},
		{[]string{"--from", "10.1.2.3", "bad..name"}, `"bad..name": not a domain name`},
		{[]string{"--from", "10.1.2.3", "--network", "ghost", "x.example"}, `--network "ghost": no such network`},
		{[]string{"--from", "10.1.2.3", "x.example", "NOPE"}, "unknown query type"},
	}
	for _, b := range bad {
		if _, errOut, code := run(t, append([]string{"explain", "--config", cfg}, b.args...)...); code != 1 || !strings.Contains(errOut, b.want) {
			t.Errorf("explain %v: exit %d, %q; want 1 and %q", b.args, code, errOut, b.want)
		}
	}
	// A name typed with escapes is the name a client would send.
	if out, errOut, code := run(t, "explain", "--config", cfg, "--from", "10.1.2.3", `sp\032ace.privatelink.blob.core.windows.net`); code != 0 || !strings.Contains(out, "10.1.0.6") {
		t.Errorf("explain sp\\032ace: exit %d\n%s%s", code, out, errOut)
	}
	// A type by number is named in the generic syntax, and --network works.
	out, errOut, code := run(t, "explain", "--config", cfg, "--from", "192.0.2.1", "--network", "vnet-bob", "contoso.privatelink.blob.core.windows.net", "TYPE65280")
	if code != 0 || !strings.Contains(out, "query: contoso.privatelink.blob.core.windows.net. TYPE65280 from 192.0.2.1") || !strings.Contains(out, "network: vnet-bob") {
		t.Errorf("explain TYPE65280 --network vnet-bob: exit %d\n%s%s", code, out, errOut)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "privdns ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestDemoShowsBobsBadDayAndTheFix(t *testing.T) {
	var errOut bytes.Buffer
	d, err := startDemo(demoOptions{Dir: filepath.Join("..", "..", "testdata", "example"), Level: "error", ErrOut: &errOut, ephemeral: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	defer d.Close()
	var out bytes.Buffer
	d.tour(&out)
	for _, want := range []string{
		"contoso.blob.core.windows.net A\n  → NOERROR | CNAME contoso.privatelink.blob.core.windows.net. | A 10.1.0.5",
		"fabrikam.blob.core.windows.net A\n  → NXDOMAIN | CNAME fabrikam.privatelink.blob.core.windows.net. | EDE: privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link bob-blob, Default)",
		"-b 127.0.0.2 fabrikam.blob.core.windows.net A\n  → NOERROR | CNAME fabrikam.privatelink.blob.core.windows.net. | CNAME blob.am5prdstr12a.store.core.windows.net. | A 20.60.222.33",
		"www.contoso.com A\n  → NOERROR | CNAME app.corp.contoso.com. | A 10.10.1.20",
		"anything.apps.internal.contoso.com A\n  → NOERROR | A 10.1.4.30",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLoadConfigPrefersDotPrivdnsYamlThenTheEmbeddedDefault(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": "upstreams: {servers: [192.0.2.1]}\nnetworks: [{name: from-cwd, addressPrefixes: [10.0.0.0/8]}]\n"})
	t.Chdir(dir)
	var errOut bytes.Buffer
	cfg, err := loadConfig("", &errOut)
	if err != nil || len(cfg.Networks) != 1 || cfg.Networks[0].Name != "from-cwd" {
		t.Fatalf("with ./privdns.yaml: %v %v\n%s", cfg, err, errOut.String())
	}
	t.Chdir(t.TempDir())
	cfg, err = loadConfig("", &errOut)
	if err != nil || cfg.File != "" || len(cfg.Networks) != 1 || cfg.Networks[0].Name != "local" ||
		len(cfg.Server.Listeners) != 1 || cfg.Server.Listeners[0].Address != "127.0.0.1:1053" || len(cfg.Zones) != 0 {
		t.Fatalf("embedded default: %+v %v", cfg, err)
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]uint16{"A": 1, "aaaa": 28, "TYPE99": 99, "type65": 65, "SVCB": 64} {
		if got, err := parseType(in); err != nil || got != want {
			t.Errorf("parseType(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"NOPE", "TYPE", "TYPE70000", ""} {
		if _, err := parseType(bad); err == nil {
			t.Errorf("parseType(%q) accepted", bad)
		}
	}
}
