package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/zones/datadir/crashtest"
)

// visibleConfig is a registration zone whose registrations expire, with
// the query log on.
const visibleConfig = `server: {listeners: [{address: "127.0.0.1:0"}], http: "", dataDir: data, log: {queries: true, format: json}}
upstreams: {servers: ["127.0.0.1:9"], timeout: 200ms}
networks:
  - {name: prod, addressPrefixes: ["127.0.0.0/24"]}
tsigKeys:
  - {name: dhcp, algorithm: hmac-sha256, secret: "` + xfrSecret + `"}
zones:
  - name: corp.example
    records: ["@ 60 IN SOA ns hostmaster 1 3600 60 600 60", "@ 60 IN NS ns", "ns 60 IN A 10.0.0.53", "manual 60 IN A 10.0.0.9", "alias 60 IN CNAME vm1"]
    registration: {ttl: 10s, expireAfter: 1h, tsigKeys: [dhcp]}
    links:
      - {name: prod-reg, network: prod, registrationEnabled: true}
`

// The query log marks answers of registered names, and PTR answers of
// registered addresses, path "registered" (through a CNAME of the zone
// too, and when sent again from a ready-packed reply); the zone's own
// records, and NODATA at a registered name, stay "private".
func TestQueryLogMarksAnswersOfRegisteredNames(t *testing.T) {
	var buf resolvertest.LogBuffer
	srv := serveTextLog(t, t.TempDir(), visibleConfig, slog.New(slog.NewJSONHandler(&buf, nil)))
	addr := srv.addrs()[0]
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeSuccess, addA("vm1.corp.example", "127.0.0.5"))
	mustUpdate(t, "127.0.1.1", addr, true, dns.RcodeSuccess, addA("lease1.corp.example", "10.9.9.9"))

	for _, c := range []struct {
		name     string
		qtype    uint16
		wantPath string
	}{
		{"vm1.corp.example", dns.TypeA, "registered"},
		{"lease1.corp.example", dns.TypeA, "registered"},
		{"alias.corp.example", dns.TypeA, "registered"},
		{"5.0.0.127.in-addr.arpa", dns.TypePTR, "registered"},
		{"manual.corp.example", dns.TypeA, "private"},
		{"vm1.corp.example", dns.TypeTXT, "private"},
		{"missing.corp.example", dns.TypeA, "private"},
	} {
		for _, proto := range []string{"udp", "udp", "tcp"} { // the second UDP one is a ready-packed reply
			mark := buf.Len()
			m := ask(t, proto, "127.0.0.7", addr, c.name, c.qtype, true)
			if c.wantPath == "registered" && len(m.Answer) == 0 {
				t.Fatalf("%s: no answer: %v", c.name, m)
			}
			var rec map[string]any
			line := strings.TrimSpace(buf.String()[mark:])
			if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] != "query" {
				t.Fatalf("%s: not one query log line: %q", c.name, line)
			}
			if rec["path"] != c.wantPath || rec["name"] != dns.Fqdn(c.name) {
				t.Errorf("%s %s over %s: logged path %v, want %s: %s", c.name, dns.Type(c.qtype), proto, rec["path"], c.wantPath, line)
			}
		}
	}

	// Deleted, the name is the zone's NXDOMAIN again, and private.
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeSuccess, delA("vm1.corp.example"))
	mark := buf.Len()
	if m := ask(t, "udp", "127.0.0.7", addr, "vm1.corp.example", dns.TypeA, true); m.Rcode != dns.RcodeNameError {
		t.Fatalf("vm1 after its delete: %v", m)
	}
	if line := buf.String()[mark:]; !strings.Contains(line, `"path":"private"`) {
		t.Errorf("a deleted registration's NXDOMAIN: %s", line)
	}
}

// explain, run while the server runs, reads the registrations from the
// server's journal without writing there, answers registered names as the
// server does and says who registered them, when, and until when; PTR
// answers of registered addresses name their registration too.
func TestExplainShowsRegistrationsWhileTheServerRuns(t *testing.T) {
	dir := t.TempDir()
	srv := serveTextLog(t, dir, visibleConfig, slog.New(slog.DiscardHandler))
	addr := srv.addrs()[0]
	file := filepath.Join(dir, "privdns.yaml")
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeSuccess, addA("vm1.corp.example", "127.0.0.5"))
	mustUpdate(t, "127.0.1.1", addr, true, dns.RcodeSuccess, addA("lease1.corp.example", "10.9.9.9"))
	reg := srv.registry(t, "corp.example.")
	first, _ := reg.Lookup("vm1.corp.example.")
	// A renewal in a later second, so that explain's times tell them apart.
	for time.Now().Truncate(time.Second).Equal(first.Since.Truncate(time.Second)) {
		time.Sleep(10 * time.Millisecond)
	}
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeSuccess, addA("vm1.corp.example", "127.0.0.5"))
	vm1, _ := reg.Lookup("vm1.corp.example.")
	if !vm1.Renewed.After(vm1.Since) {
		t.Fatalf("the renewal did not renew: %+v", vm1)
	}
	before := crashtest.Files(t, filepath.Join(dir, "data"))

	explainOut := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(t, append([]string{"explain", "--config", file, "--from", "127.0.0.7"}, args...)...)
		if code != 0 {
			t.Fatalf("explain %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	vm1Block := fmt.Sprintf(`  registration of vm1.corp.example. (zone corp.example.):
    by: 127.0.0.5 (an unsigned update from the client itself)
    first registered: %s
    last renewed: %s
    expires: %s (in 1h0m0s, unless renewed)
`, stamp(vm1.Since), stamp(vm1.Renewed), stamp(vm1.Renewed.Add(time.Hour)))
	out := explainOut("vm1.corp.example")
	for _, want := range []string{
		fmt.Sprintf("registration zone corp.example: 2 registered names, from the journal in %s (serial %d)", filepath.Join(dir, "data"), reg.Current().SOA().Serial),
		"(link prod-reg, Default): vm1.corp.example. A → answer: records registered by UPDATE",
		"final: NOERROR",
		"vm1.corp.example. 10 IN A 127.0.0.5",
		vm1Block,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain vm1 lacks %q:\n%s", want, out)
		}
	}
	out = explainOut("lease1.corp.example")
	for _, want := range []string{"by: TSIG key dhcp. (a signed update)", "expires: never (a key's registrations stay until its DHCP server deletes them)", "lease1.corp.example. 10 IN A 10.9.9.9"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lease1 lacks %q:\n%s", want, out)
		}
	}
	out = explainOut("5.0.0.127.in-addr.arpa", "PTR")
	for _, want := range []string{"registrations of corp.example.: 5.0.0.127.in-addr.arpa. is the reverse name of a registered address → 1 PTR",
		"5.0.0.127.in-addr.arpa. 10 IN PTR vm1.corp.example.", vm1Block} {
		if !strings.Contains(out, want) {
			t.Errorf("explain of vm1's reverse name lacks %q:\n%s", want, out)
		}
	}
	out = explainOut("alias.corp.example")
	if !strings.Contains(out, "is a CNAME to vm1.corp.example.") || !strings.Contains(out, vm1Block) {
		t.Errorf("explain of a CNAME to vm1 does not show vm1's registration:\n%s", out)
	}
	out = explainOut("manual.corp.example")
	if strings.Contains(out, "registration of") || strings.Contains(out, "registered by UPDATE") || !strings.Contains(out, "10.0.0.9") {
		t.Errorf("explain of a manual name:\n%s", out)
	}

	if after := crashtest.Files(t, filepath.Join(dir, "data")); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("explain changed the dataDir:\nbefore %q\nafter  %q", before, after)
	}
	// The server goes on, and explain follows it.
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeSuccess, delA("vm1.corp.example"))
	if out := explainOut("vm1.corp.example"); !strings.Contains(out, "final: NXDOMAIN") || strings.Contains(out, "registration of") {
		t.Errorf("explain after vm1's delete:\n%s", out)
	}
}
