package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
)

// nsupdate runs BIND's nsupdate against server from src with commands
// (zone, update lines; "send" is added), signed with key
// ("hmac-sha256:name:secret") when set. It returns nsupdate's output and
// whether it succeeded.
func nsupdate(t *testing.T, server, src, key string, commands ...string) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("nsupdate")
	if err != nil {
		t.Skip("nsupdate not installed (apt-get install bind9-dnsutils)")
	}
	host, port, _ := net.SplitHostPort(server)
	script := fmt.Sprintf("server %s %s\nlocal %s\n%s\nsend\n", host, port, src, strings.Join(commands, "\n"))
	args := []string{}
	if key != "" {
		args = append(args, "-y", key)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

const registrationConfig = `server: {listeners: [{address: "127.0.0.1:0"}], http: "", dataDir: data}
upstreams: {servers: ["127.0.0.1:9"]}
networks:
  - {name: prod, addressPrefixes: ["127.0.0.0/24"]}
  - {name: other, addressPrefixes: ["127.0.2.0/24"]}
tsigKeys:
  - {name: dhcp, algorithm: hmac-sha256, secret: "` + xfrSecret + `"}
zones:
  - name: corp.example
    records: ["@ 60 IN SOA ns hostmaster 1 3600 60 600 60", "@ 60 IN NS ns", "ns 60 IN A 10.0.0.53", "manual 60 IN A 10.0.0.9"]
    registration: {ttl: 10s, tsigKeys: [dhcp]}
    links:
      - {name: prod-reg, network: prod, registrationEnabled: true}
      - {name: other-view, network: other}
`

// Registration through the server with nsupdate as the client (R13): a
// machine registers its own address and is answered by name and by its
// reverse name to every network linked to the zone; the rules of R13
// refuse the rest; a DHCP server's signed updates register any address;
// registrations survive a restart.
func TestNsupdateRegistersThroughTheServer(t *testing.T) {
	dir := t.TempDir()
	srv := serveText(t, dir, registrationConfig)
	addr := srv.addrs()[0]

	if out, ok := nsupdate(t, addr, "127.0.0.5", "", "zone corp.example", "update add vm1.corp.example 300 A 127.0.0.5"); !ok {
		t.Fatalf("a machine registering its own address failed:\n%s", out)
	}
	for _, src := range []string{"127.0.0.7", "127.0.2.7"} {
		m := ask(t, "udp", src, addr, "vm1.corp.example", dns.TypeA, false)
		if lastA(m) != "127.0.0.5" || m.Answer[0].Header().Ttl != 10 {
			t.Errorf("vm1 from %s: %v, want 127.0.0.5 at registration.ttl 10", src, m.Answer)
		}
	}
	m := ask(t, "udp", "127.0.0.7", addr, "5.0.0.127.in-addr.arpa", dns.TypePTR, false)
	if len(m.Answer) != 1 || m.Answer[0].(*dns.PTR).Ptr != "vm1.corp.example." {
		t.Errorf("the reverse name of a registered address: %v, want vm1.corp.example.", m.Answer)
	}

	for _, c := range []struct{ what, src, key, cmd, want string }{
		{"another address", "127.0.0.6", "", "update add vm2.corp.example 300 A 127.0.0.99", "REFUSED"},
		{"a manual name", "127.0.0.6", "", "update add manual.corp.example 300 A 127.0.0.6", "REFUSED"},
		{"a name another client holds", "127.0.0.6", "", "update add vm1.corp.example 300 A 127.0.0.6", "REFUSED"},
		{"from a network without a registration link", "127.0.2.6", "", "update add vm3.corp.example 300 A 127.0.2.6", "REFUSED"},
		{"from no network", "127.0.1.6", "", "update add vm4.corp.example 300 A 127.0.1.6", "REFUSED"},
		{"with a wrong key", "127.0.0.6", "hmac-sha256:dhcp:" + otherSecret, "update add vm5.corp.example 300 A 10.9.9.9", "NOTAUTH"},
	} {
		out, ok := nsupdate(t, addr, c.src, c.key, "zone corp.example", c.cmd)
		if ok || !strings.Contains(out, c.want) {
			t.Errorf("%s: nsupdate ok=%v:\n%s\nwant %s", c.what, ok, out, c.want)
		}
	}
	if out, ok := nsupdate(t, addr, "127.0.1.6", "hmac-sha256:dhcp:"+xfrSecret, "zone corp.example", "update add lease1.corp.example 300 A 10.9.9.9"); !ok {
		t.Fatalf("a DHCP server's signed update from no network failed:\n%s", out)
	}
	if m := ask(t, "udp", "127.0.0.7", addr, "lease1.corp.example", dns.TypeA, false); lastA(m) != "10.9.9.9" {
		t.Errorf("lease1: %v, want 10.9.9.9", m.Answer)
	}
	if n := metricValue(t, srv.reg, "privdns_updates_total", map[string]string{"zone": "corp.example.", "result": "REFUSED"}); n != 5 {
		t.Errorf("privdns_updates_total{result=REFUSED} = %v, want 5", n)
	}
	if n := metricValue(t, srv.reg, "privdns_registrations", map[string]string{"zone": "corp.example."}); n != 2 {
		t.Errorf("privdns_registrations = %v, want 2", n)
	}

	srv.Close()
	srv = serveText(t, dir, registrationConfig)
	addr = srv.addrs()[0]
	for name, want := range map[string]string{"vm1.corp.example": "127.0.0.5", "lease1.corp.example": "10.9.9.9"} {
		if m := ask(t, "udp", "127.0.0.7", addr, name, dns.TypeA, false); lastA(m) != want {
			t.Errorf("after a restart, %s: %v, want %s", name, m.Answer, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		t.Errorf("the dataDir was not created: %v", err)
	}
}

// The TSIG side of R13 through the server: an unknown key is NOTAUTH with
// BADKEY and a bad signature NOTAUTH with BADSIG, unsigned; a valid key
// not among the zone's registration keys is REFUSED, signed; an update of
// a zone privdns does not hold is NOTAUTH, counted under zone "".
func TestSignedUpdatesThroughTheServer(t *testing.T) {
	cfg := strings.Replace(registrationConfig, "tsigKeys:\n", "tsigKeys:\n  - {name: other, algorithm: hmac-sha256, secret: \""+otherSecret+"\"}\n", 1)
	srv := serveText(t, "", cfg)
	addr := srv.addrs()[0]
	send := func(zone, key, secret string) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetUpdate(zone)
		rr, _ := dns.NewRR("h." + zone + " 300 IN A 10.9.9.1")
		m.Insert([]dns.RR{rr})
		m.SetTsig(key+".", dns.HmacSHA256, 300, time.Now().Unix())
		c := &dns.Client{TsigSecret: map[string]string{key + ".": secret}}
		r, _, err := c.Exchange(m, addr)
		if r == nil {
			t.Fatalf("update signed with %s: %v", key, err)
		}
		return r
	}
	tsigError := func(r *dns.Msg) uint16 {
		if ts := r.IsTsig(); ts != nil {
			return ts.Error
		}
		return 0
	}
	for _, c := range []struct {
		what, zone, key, secret string
		rcode                   int
		tsig                    uint16
		signed                  bool
	}{
		{"the zone's key", "corp.example.", "dhcp", xfrSecret, dns.RcodeSuccess, 0, true},
		{"an unknown key", "corp.example.", "stranger", xfrSecret, dns.RcodeNotAuth, dns.RcodeBadKey, false},
		{"a wrong secret", "corp.example.", "dhcp", otherSecret, dns.RcodeNotAuth, dns.RcodeBadSig, false},
		{"a valid key not of the zone", "corp.example.", "other", otherSecret, dns.RcodeRefused, 0, true},
		{"a zone privdns does not hold", "elsewhere.example.", "dhcp", xfrSecret, dns.RcodeNotAuth, 0, true},
	} {
		r := send(c.zone, c.key, c.secret)
		if r.Rcode != c.rcode || tsigError(r) != c.tsig {
			t.Errorf("%s: %s TSIG error %d, want %s TSIG error %d", c.what, dns.RcodeToString[r.Rcode], tsigError(r), dns.RcodeToString[c.rcode], c.tsig)
		}
		if signed := r.IsTsig() != nil && len(r.IsTsig().MAC) > 0; signed != c.signed {
			t.Errorf("%s: reply signed %v, want %v", c.what, signed, c.signed)
		}
	}
	if n := metricValue(t, srv.reg, "privdns_updates_total", map[string]string{"zone": "", "result": "NOTAUTH"}); n != 1 {
		t.Errorf("privdns_updates_total{zone=\"\",result=NOTAUTH} = %v, want 1", n)
	}
}

// UPDATEs broken on the wire (R7, RFC 2136 §3.1) are FORMERR and change
// nothing: one that does not parse, and ones whose header announces more
// records than they hold (miekg/dns unpacks those without an error). A
// signed update of a zone without registrations is REFUSED, as for any key
// not among the zone's registration keys.
func TestMalformedUpdatesThroughTheServer(t *testing.T) {
	cfg := strings.Replace(registrationConfig, "zones:\n", "zones:\n  - name: plain.example\n    records: [\"@ 60 IN SOA ns hostmaster 1 3600 60 600 60\"]\n    links: [{name: plain, network: prod}]\n", 1)
	srv := serveText(t, "", cfg)
	addr := srv.addrs()[0]
	update := func(name string) []byte {
		m := new(dns.Msg)
		m.SetUpdate("corp.example.")
		rr, _ := dns.NewRR(name + ".corp.example. 300 IN A 127.0.0.1")
		m.Insert([]dns.RR{rr})
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withCount := func(b []byte, at int, n uint16) []byte {
		b[at], b[at+1] = byte(n>>8), byte(n)
		return b
	}
	garbage := append(update("g")[:12:12], 0xff, 0xff, 0xff)
	garbage[5] = 1 // one zone record, which is not there
	for _, c := range []struct {
		what, name string
		pkt        []byte
	}{
		{"bytes that do not parse after an UPDATE header", "g", garbage},
		{"UPCOUNT 2, one record", "up2", withCount(update("up2"), 8, 2)},
		{"ARCOUNT 1, no record", "ar1", withCount(update("ar1"), 10, 1)},
		{"PRCOUNT 1, no record", "pr1", withCount(update("pr1"), 6, 1)},
	} {
		r := resolvertest.RawExchange(t, addr, c.pkt, 2*time.Second)
		if r == nil || r.Rcode != dns.RcodeFormatError {
			t.Errorf("%s: %v, want FORMERR", c.what, r)
		}
		if m := ask(t, "udp", "127.0.0.7", addr, c.name+".corp.example", dns.TypeA, false); m.Rcode != dns.RcodeNameError {
			t.Errorf("%s: %s.corp.example is %s %v, want NXDOMAIN: nothing applied", c.what, c.name, dns.RcodeToString[m.Rcode], m.Answer)
		}
	}

	m := new(dns.Msg)
	m.SetUpdate("plain.example.")
	rr, _ := dns.NewRR("x.plain.example. 300 IN A 10.9.9.1")
	m.Insert([]dns.RR{rr})
	m.SetTsig("dhcp.", dns.HmacSHA256, 300, time.Now().Unix())
	r, _, err := (&dns.Client{TsigSecret: map[string]string{"dhcp.": xfrSecret}}).Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("a signed update of a zone without registrations: %v %v, want REFUSED", r, err)
	}
}
