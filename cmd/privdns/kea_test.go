package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// kea is a running ISC Kea DHCP-DDNS daemon (D2), fed Name Change
// Requests on ncr as a Kea DHCP server would.
type kea struct {
	ncr string
	log *lockedOutput
}

// startKea runs kea-dhcp-ddns with the key dhcp for the forward domain
// corp.example at the DNS server dnsAddr, and no reverse domain (privdns
// refuses PTR updates, R13). The test is skipped where D2 is not installed
// (CI installs kea-dhcp-ddns-server).
func startKea(t *testing.T, dnsAddr string) *kea {
	t.Helper()
	bin, err := exec.LookPath("kea-dhcp-ddns")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/kea-dhcp-ddns"); err != nil {
			t.Skip("kea-dhcp-ddns not installed (apt-get install kea-dhcp-ddns-server)")
		}
	}
	dir := t.TempDir()
	ncr := freePort(t)
	ncrHost, ncrPort, _ := net.SplitHostPort(ncr)
	dnsHost, dnsPort, _ := net.SplitHostPort(dnsAddr)
	port := func(s string) int { n, _ := strconv.Atoi(s); return n }
	conf := map[string]any{"DhcpDdns": map[string]any{
		"ip-address":         ncrHost,
		"port":               port(ncrPort),
		"ncr-protocol":       "UDP",
		"ncr-format":         "JSON",
		"dns-server-timeout": 5000, // ms; a retry would only blur the counts below
		"tsig-keys":          []any{map[string]any{"name": "dhcp", "algorithm": "HMAC-SHA256", "secret": xfrSecret}},
		"forward-ddns": map[string]any{"ddns-domains": []any{map[string]any{
			"name":        "corp.example.",
			"key-name":    "dhcp",
			"dns-servers": []any{map[string]any{"ip-address": dnsHost, "port": port(dnsPort)}},
		}}},
		"reverse-ddns": map[string]any{"ddns-domains": []any{}},
		"loggers": []any{map[string]any{
			"name": "kea-dhcp-ddns", "severity": "DEBUG", "debuglevel": 99,
			"output_options": []any{map[string]any{"output": "stdout"}},
		}},
	}}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "kea-dhcp-ddns.conf")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", file)
	cmd.Env = append(os.Environ(), "KEA_LOCKFILE_DIR="+dir, "KEA_PIDFILE_DIR="+dir)
	out := &lockedOutput{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("kea-dhcp-ddns output:\n%s", out)
		}
	})
	// D2 logs this once its NCR socket is open.
	within(t, "kea-dhcp-ddns to listen for NCRs", func() error {
		select {
		case <-exited:
			t.Fatalf("kea-dhcp-ddns exited:\n%s", out)
		default:
		}
		if !strings.Contains(out.String(), "DHCP_DDNS_QUEUE_MGR_STARTED") {
			return fmt.Errorf("not started")
		}
		return nil
	})
	return &kea{ncr: ncr, log: out}
}

// ncr is a Name Change Request as a Kea DHCP server sends it to D2
// (src/lib/dhcp_ddns/ncr_msg.cc, NameChangeRequest::toJSON).
type ncr struct {
	ChangeType     int    `json:"change-type"` // 0 add, 1 remove
	ForwardChange  bool   `json:"forward-change"`
	ReverseChange  bool   `json:"reverse-change"`
	FQDN           string `json:"fqdn"`
	IPAddress      string `json:"ip-address"`
	DHCID          string `json:"dhcid"` // hex of the DHCID RDATA
	LeaseExpiresOn string `json:"lease-expires-on"`
	LeaseLength    int    `json:"lease-length"`
	UseConflict    bool   `json:"use-conflict-resolution"`
}

// send writes one NCR to D2 as its UDP listener reads it with format JSON
// (NameChangeRequest::toFormat/fromFormat): the JSON text preceded by its
// length as a 2-octet big-endian integer, one request per datagram.
func (k *kea) send(t *testing.T, r ncr) {
	t.Helper()
	text, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(text)))
	msg = append(msg, text...)
	c, err := net.Dial("udp", k.ncr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
}

// lease is the NCR of a lease of client on name at addr; remove turns it
// into the NCR of the lease's end.
func lease(client, name, addr string, remove bool) ncr {
	r := ncr{
		FQDN: dns.Fqdn(name), IPAddress: addr, ForwardChange: true,
		DHCID: hex.EncodeToString(dhcid(client, name)), LeaseLength: 3600, UseConflict: true,
		LeaseExpiresOn: time.Now().Add(time.Hour).UTC().Format("20060102150405"),
	}
	if remove {
		r.ChangeType = 1
	}
	return r
}

// dhcid is the DHCID RDATA of a client identified by its DUID (RFC 4701:
// identifier type 2, digest type 1, SHA-256 of the DUID and the name in
// wire form).
func dhcid(duid, name string) []byte {
	wire := make([]byte, 256)
	n, _ := dns.PackDomainName(dns.CanonicalName(name), wire, 0, nil, false)
	sum := sha256.Sum256(append([]byte(duid), wire[:n]...))
	return append([]byte{0, 2, 1}, sum[:]...)
}

// Registration by a real ISC Kea D2 (R13): its signed, RFC 4703 guarded
// updates register a lease's name at its address, with the DHCID that
// proves whose it is; another client asking for the name is refused by
// that conflict resolution; the lease's end removes the name, which
// another client may then take.
func TestKeaRegistersThroughTheServer(t *testing.T) {
	srv := serveText(t, t.TempDir(), registrationConfig)
	addr := srv.addrs()[0]
	d2 := startKea(t, addr)
	const client = "127.0.0.7" // in network prod, linked to corp.example

	answers := func(name string, qtype uint16, want string) func() error {
		return func() error {
			m, err := askErr("udp", client, addr, name, qtype, false)
			if err != nil {
				return err
			}
			var got []string
			for _, rr := range m.Answer {
				got = append(got, rr.String())
			}
			if len(got) != 1 || got[0] != want {
				return fmt.Errorf("%s %s: %s %q, want %q", name, dns.TypeToString[qtype], dns.RcodeToString[m.Rcode], got, want)
			}
			return nil
		}
	}
	dhcidRR := func(duid, name string) string {
		return fmt.Sprintf("%s\t10\tIN\tDHCID\t%s", dns.Fqdn(name), base64.StdEncoding.EncodeToString(dhcid(duid, name)))
	}

	d2.send(t, lease("duid-1", "h1.corp.example", "10.2.0.1", false))
	took := within(t, "h1 registered by Kea", answers("h1.corp.example", dns.TypeA, "h1.corp.example.\t10\tIN\tA\t10.2.0.1"))
	t.Logf("NCR to answer: %v", took)
	if err := answers("h1.corp.example", dns.TypeDHCID, dhcidRR("duid-1", "h1.corp.example"))(); err != nil {
		t.Error(err)
	}
	if m := ask(t, "udp", "127.0.2.7", addr, "h1.corp.example", dns.TypeA, false); lastA(m) != "10.2.0.1" {
		t.Errorf("h1 from another linked network: %v, want 10.2.0.1", m.Answer)
	}

	d2.send(t, lease("duid-6", "h6.corp.example", "fd00::6", false))
	within(t, "h6 AAAA registered by Kea", answers("h6.corp.example", dns.TypeAAAA, "h6.corp.example.\t10\tIN\tAAAA\tfd00::6"))

	// The same client moves to another address: D2's add meets the name
	// (YXDOMAIN), its replace matches the client's DHCID.
	d2.send(t, lease("duid-1", "h1.corp.example", "10.2.0.11", false))
	within(t, "h1 moved by Kea", answers("h1.corp.example", dns.TypeA, "h1.corp.example.\t10\tIN\tA\t10.2.0.11"))

	// Another client, the same name: D2's add meets the name in use
	// (YXDOMAIN), its replace does not match the DHCID (NXRRSET), and D2
	// gives up.
	d2.send(t, lease("duid-2", "h1.corp.example", "10.2.0.2", false))
	updates := func(result string) float64 {
		return metricValue(t, srv.reg, "privdns_updates_total", map[string]string{"zone": "corp.example.", "result": result})
	}
	within(t, "Kea's conflicting add refused", func() error {
		if n := updates("NXRRSET"); n != 1 {
			return fmt.Errorf("privdns_updates_total{result=NXRRSET} = %v", n)
		}
		return nil
	})
	if err := answers("h1.corp.example", dns.TypeA, "h1.corp.example.\t10\tIN\tA\t10.2.0.11")(); err != nil {
		t.Errorf("after another client's add: %v", err)
	}
	if !strings.Contains(d2.log.String(), "DHCP_DDNS_FORWARD_REPLACE_REJECTED") {
		t.Errorf("kea-dhcp-ddns did not log its replace as rejected")
	}

	// The first lease ends: the address, then the DHCID go.
	d2.send(t, lease("duid-1", "h1.corp.example", "10.2.0.11", true))
	within(t, "h1 removed by Kea", func() error {
		m, err := askErr("udp", client, addr, "h1.corp.example", dns.TypeA, false)
		if err != nil {
			return err
		}
		if m.Rcode != dns.RcodeNameError {
			return fmt.Errorf("h1: %s %v, want NXDOMAIN", dns.RcodeToString[m.Rcode], m.Answer)
		}
		return nil
	})

	// Now the second client may have the name.
	d2.send(t, lease("duid-2", "h1.corp.example", "10.2.0.2", false))
	within(t, "h1 registered again by Kea", answers("h1.corp.example", dns.TypeA, "h1.corp.example.\t10\tIN\tA\t10.2.0.2"))
	if err := answers("h1.corp.example", dns.TypeDHCID, dhcidRR("duid-2", "h1.corp.example"))(); err != nil {
		t.Error(err)
	}

	// Adds of h1, h6, h1 again; h1's replace; the removal's two steps.
	for result, want := range map[string]float64{"NOERROR": 6, "YXDOMAIN": 2, "NXRRSET": 1, "REFUSED": 0, "NOTAUTH": 0} {
		if n := updates(result); n != want {
			t.Errorf("privdns_updates_total{result=%s} = %v, want %v", result, n, want)
		}
	}
	if n := metricValue(t, srv.reg, "privdns_registrations", map[string]string{"zone": "corp.example."}); n != 2 {
		t.Errorf("privdns_registrations = %v, want 2", n)
	}
}
