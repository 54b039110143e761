package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones/bindtest"
)

// replicaConfig is a replica of corp.example (R13): updates forwarded to
// the primary at %[3]s signed with replica, the zone a secondary of it.
const replicaConfig = `server: {listeners: [{address: "%[1]s"}], http: "", dataDir: "%[2]s"}
upstreams: {servers: ["127.0.0.1:9"]}
networks:
  - {name: prod, addressPrefixes: ["127.0.0.0/24"]}
tsigKeys:
  - {name: replica, algorithm: hmac-sha256, secret: "` + xfrSecret + `"}
zones:
  - name: corp.example
    registration: {primary: "%[3]s", primaryKey: replica}
    links: [{name: prod-reg, network: prod, registrationEnabled: true}]
`

// registrationPrimaryConfig is a privdns primary of corp.example whose
// registrations replicas forward (signed with replica) and follow (NOTIFY
// to %[2]s).
const registrationPrimaryConfig = `server: {listeners: [{address: "%[1]s"}], http: "", dataDir: data}
upstreams: {servers: ["127.0.0.1:9"]}
networks:
  - {name: prod, addressPrefixes: ["127.0.0.0/24"]}
tsigKeys:
  - {name: replica, algorithm: hmac-sha256, secret: "` + xfrSecret + `"}
zones:
  - name: corp.example
    records: ["@ 60 IN SOA ns hostmaster 1 3600 1 600 60", "@ 60 IN NS ns", "ns 60 IN A 10.0.0.53", "manual 60 IN A 10.0.0.9"]
    registration: {ttl: 10s, tsigKeys: [replica]}
    transfer: {allow: ["127.0.0.0/24"], tsigKey: replica, notify: [%[2]s]}
    links: [{name: prod-reg, network: prod, registrationEnabled: true}]
`

// twoReplicas starts replicas of corp.example at 127.0.0.2 and 127.0.0.3
// forwarding to primary, once it knows their addresses from addrs.
func twoReplicas(t *testing.T, primary string, addrs [2]string) (servers [2]*server, dirs [2]string) {
	t.Helper()
	for i, addr := range addrs {
		dirs[i] = t.TempDir()
		servers[i] = serveText(t, dirs[i], fmt.Sprintf(replicaConfig, addr, filepath.Join(dirs[i], "data"), primary))
	}
	return servers, dirs
}

func replicaAddrs(t *testing.T) [2]string {
	return [2]string{strings.Replace(freePort(t), "127.0.0.1", "127.0.0.2", 1), strings.Replace(freePort(t), "127.0.0.1", "127.0.0.3", 1)}
}

// Replicas of a privdns primary (R13): a machine registers through
// replica A and is answered by replica B; the primary arbitrates, the
// replicas check by their copies; with the primary away, reads go on and
// updates get SERVFAIL.
func TestReplicasOfAPrivdnsPrimary(t *testing.T) {
	paddr, raddrs := freePort(t), replicaAddrs(t)
	primary := serveText(t, "", fmt.Sprintf(registrationPrimaryConfig, paddr, `"`+raddrs[0]+`", "`+raddrs[1]+`"`))
	replicas, dirs := twoReplicas(t, paddr, raddrs)
	a, b := raddrs[0], raddrs[1]
	registerThroughAAnsweredByB(t, raddrs, "manual.corp.example", "10.0.0.9")
	if err := answers("127.0.0.7", paddr, "vm1.corp.example", "127.0.0.5")(); err != nil {
		t.Errorf("the primary: %v", err)
	}
	if m := ask(t, "udp", "127.0.0.7", b, "vm1.corp.example", dns.TypeA, false); len(m.Answer) != 1 || m.Answer[0].Header().Ttl != 10 {
		t.Errorf("a registration answered by B: %v, want one A at registration.ttl", m.Answer)
	}
	wantPTR(t, b, "5.0.0.127.in-addr.arpa", "vm1.corp.example.")
	out, errOut, code := run(t, "explain", "--config", filepath.Join(dirs[1], "privdns.yaml"), "--from", "127.0.0.7", "vm1.corp.example")
	if code != 0 || !strings.Contains(out, "registration replica of zone corp.example (updates forwarded to "+paddr) || !strings.Contains(out, "127.0.0.5") ||
		!strings.Contains(out, "records registered by UPDATE") {
		t.Errorf("explain on replica B: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, "explain", "--config", filepath.Join(dirs[1], "privdns.yaml"), "--from", "127.0.0.7", "5.0.0.127.in-addr.arpa", "PTR")
	if code != 0 || !strings.Contains(out, "vm1.corp.example.") {
		t.Errorf("explain of a registered address's reverse name on replica B: exit %d\n%s%s", code, out, errOut)
	}
	if reg, found := primary.zones.regs["corp.example."].reg.Lookup("vm1.corp.example."); !found || reg.By.String() != "127.0.0.5" {
		t.Errorf("the primary's registration of vm1: %+v %v, want the client 127.0.0.5's own", reg, found)
	}

	for _, c := range []struct{ what, via, src, cmd, want string }{
		{"a name another client holds, through the other replica", b, "127.0.0.6", "update add vm1.corp.example 300 A 127.0.0.6", "REFUSED"},
		{"a manual name", a, "127.0.0.6", "update add manual.corp.example 300 A 127.0.0.6", "REFUSED"},
		{"another address", b, "127.0.0.6", "update add vm6.corp.example 300 A 127.0.0.99", "REFUSED"},
		{"from no network", b, "127.0.5.6", "update add vm6.corp.example 300 A 127.0.5.6", "REFUSED"},
	} {
		out, _ := nsupdate(t, c.via, c.src, "", "zone corp.example", c.cmd)
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: nsupdate said %q, want %s", c.what, out, c.want)
		}
	}
	if err := answers("127.0.0.7", b, "vm1.corp.example", "127.0.0.5")(); err != nil {
		t.Errorf("after the refusals: %v", err)
	}

	deleteThroughBGoneAtA(t, raddrs)
	if n := metricValue(t, replicas[0].reg, "privdns_updates_total", map[string]string{"zone": "corp.example.", "result": "NOERROR"}); n != 1 {
		t.Errorf("replica A counted %v accepted updates, want 1", n)
	}

	primary.Close()
	if out, _ := nsupdate(t, a, "127.0.0.8", "", "zone corp.example", "update add vm8.corp.example 300 A 127.0.0.8"); !strings.Contains(out, "SERVFAIL") {
		t.Errorf("an update with the primary away: %q, want SERVFAIL", out)
	}
	if err := answers("127.0.0.7", a, "manual.corp.example", "10.0.0.9")(); err != nil {
		t.Errorf("reads with the primary away: %v", err)
	}
}

// Replicas of a BIND primary: the same forwards, judged by BIND's
// update-policy for the replica key and its prerequisites.
func TestReplicasOfABINDPrimary(t *testing.T) {
	bindtest.Named(t)
	raddrs := replicaAddrs(t)
	var notify []string
	for _, r := range raddrs {
		host, port, _ := net.SplitHostPort(r)
		notify = append(notify, fmt.Sprintf(`%s port %s key "replica";`, host, port))
	}
	bind := bindtest.Start(t, bindtest.Config{
		Files: map[string]string{"corp.example.db": bindtest.IXFRZone("3600 1 600 10")},
		Statements: fmt.Sprintf(`key "replica" { algorithm hmac-sha256; secret "%s"; };
zone "corp.example" {
  type primary;
  file "corp.example.db";
  update-policy { grant replica zonesub A AAAA TXT DHCID; };
  allow-transfer { key "replica"; };
  notify explicit;
  also-notify { %s };
};`, xfrSecret, strings.Join(notify, " ")),
	})
	twoReplicas(t, bind.Addr, raddrs)
	a, b := raddrs[0], raddrs[1]
	registerThroughAAnsweredByB(t, raddrs, "www.corp.example", "10.0.1.1")
	if m := bind.Query(t, "vm1.corp.example", dns.TypeA); len(m.Answer) != 1 || m.Answer[0].Header().Ttl != 10 {
		t.Errorf("BIND holds %v, want vm1 at the replicas' registration.ttl 10", m.Answer)
	}
	wantPTR(t, b, "5.0.0.127.in-addr.arpa", "vm1.corp.example.")

	// Re-registering replaces; a second client is refused by B's copy.
	if out, ok := nsupdate(t, b, "127.0.0.5", "", "zone corp.example", "update add vm1.corp.example 300 A 127.0.0.5"); !ok {
		t.Fatalf("re-registering through B:\n%s", out)
	}
	if m := bind.Query(t, "vm1.corp.example", dns.TypeA); len(m.Answer) != 1 {
		t.Errorf("after a re-registration BIND holds %v, want one record", m.Answer)
	}
	if out, _ := nsupdate(t, b, "127.0.0.6", "", "zone corp.example", "update add vm1.corp.example 300 A 127.0.0.6"); !strings.Contains(out, "REFUSED") {
		t.Errorf("another client taking vm1 through B: %q, want REFUSED", out)
	}
	if out, _ := nsupdate(t, a, "127.0.0.6", "", "zone corp.example", "update add www.corp.example 300 A 127.0.0.6"); !strings.Contains(out, "REFUSED") {
		t.Errorf("a client taking BIND's own www: %q, want REFUSED", out)
	}

	deleteThroughBGoneAtA(t, raddrs)
}

// A replica's zone is a secondary: it answers SERVFAIL, updates too,
// until its first transfer.
func TestAReplicaWithoutItsPrimary(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	srv := serveText(t, dir, fmt.Sprintf(replicaConfig, addr, filepath.Join(dir, "data"), freePort(t)))
	if out, _ := nsupdate(t, addr, "127.0.0.5", "", "zone corp.example", "update add vm1.corp.example 300 A 127.0.0.5"); !strings.Contains(out, "SERVFAIL") {
		t.Errorf("an update to a replica without data: %q, want SERVFAIL", out)
	}
	if m := ask(t, "udp", "127.0.0.7", addr, "vm1.corp.example", dns.TypeA, false); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("a query: %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	if n := metricValue(t, srv.reg, "privdns_updates_total", map[string]string{"zone": "corp.example.", "result": "SERVFAIL"}); n != 1 {
		t.Errorf("privdns_updates_total SERVFAIL = %v, want 1", n)
	}
}

// registerThroughAAnsweredByB waits for both replicas' first transfer
// (name answering addr), registers vm1 at 127.0.0.5 through replica A,
// which must answer it at once, and waits for replica B to answer it.
func registerThroughAAnsweredByB(t *testing.T, replicas [2]string, name, addr string) {
	t.Helper()
	a, b := replicas[0], replicas[1]
	for _, r := range replicas {
		within(t, "the replica's first transfer", answers("127.0.0.7", r, name, addr))
	}
	if out, ok := nsupdate(t, a, "127.0.0.5", "", "zone corp.example", "update add vm1.corp.example 300 A 127.0.0.5"); !ok {
		t.Fatalf("registering through replica A failed:\n%s", out)
	}
	if err := answers("127.0.0.7", a, "vm1.corp.example", "127.0.0.5")(); err != nil {
		t.Errorf("replica A as soon as it answered the update NOERROR: %v", err)
	}
	took := within(t, "replica B answering a registration made through A", answers("127.0.0.7", b, "vm1.corp.example", "127.0.0.5"))
	t.Logf("registered through A, answered by B %v after nsupdate returned", took)
}

// deleteThroughBGoneAtA deletes vm1's registration as its client through
// replica B and waits for replica A to answer NXDOMAIN.
func deleteThroughBGoneAtA(t *testing.T, replicas [2]string) {
	t.Helper()
	if out, ok := nsupdate(t, replicas[1], "127.0.0.5", "", "zone corp.example", "update delete vm1.corp.example A"); !ok {
		t.Fatalf("the client deleting its registration through B:\n%s", out)
	}
	within(t, "the deletion reaching replica A", func() error {
		if m := ask(t, "udp", "127.0.0.7", replicas[0], "vm1.corp.example", dns.TypeA, false); m.Rcode != dns.RcodeNameError {
			return fmt.Errorf("vm1 at A: %s %v, want NXDOMAIN", dns.RcodeToString[m.Rcode], m.Answer)
		}
		return nil
	})
}

// wantPTR checks that server answers the reverse name with one PTR to
// target, to a client of the linked network.
func wantPTR(t *testing.T, server, name, target string) {
	t.Helper()
	m := ask(t, "udp", "127.0.0.7", server, name, dns.TypePTR, false)
	if len(m.Answer) != 1 || m.Answer[0].(*dns.PTR).Ptr != target {
		t.Errorf("PTR %s at %s: %s %v, want %s", name, server, dns.RcodeToString[m.Rcode], m.Answer, target)
	}
}

// A DHCP server's signed updates through a replica: verified there with
// its own key, forwarded with the replicas' key, the primary's answer
// relayed signed with the DHCP server's key; a bad signature is the
// replica's NOTAUTH, and a key the replica knows but that may not register
// is REFUSED, signed.
func TestSignedUpdatesThroughAReplica(t *testing.T) {
	paddr, raddrs := freePort(t), replicaAddrs(t)
	serveText(t, "", fmt.Sprintf(registrationPrimaryConfig, paddr, `"`+raddrs[0]+`", "`+raddrs[1]+`"`))
	cfg := strings.Replace(replicaConfig, "tsigKeys:\n", "tsigKeys:\n  - {name: dhcp, algorithm: hmac-sha256, secret: \""+otherSecret+"\"}\n", 1)
	cfg = strings.Replace(cfg, "primaryKey: replica}", "primaryKey: replica, tsigKeys: [dhcp]}", 1)
	dir := t.TempDir()
	serveText(t, dir, fmt.Sprintf(cfg, raddrs[0], filepath.Join(dir, "data"), paddr))
	a := raddrs[0]
	within(t, "the replica's first transfer", answers("127.0.0.7", a, "manual.corp.example", "10.0.0.9"))

	send := func(key, secret, name string) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetUpdate("corp.example.")
		rr, _ := dns.NewRR(name + ".corp.example. 300 IN A 10.9.9.1")
		m.Insert([]dns.RR{rr})
		m.SetTsig(key+".", dns.HmacSHA256, 300, time.Now().Unix())
		r, _, err := (&dns.Client{TsigSecret: map[string]string{key + ".": secret}}).Exchange(m, a)
		return r, err
	}
	r, err := send("dhcp", otherSecret, "lease1")
	if err != nil || r.Rcode != dns.RcodeSuccess || r.IsTsig() == nil {
		t.Fatalf("a DHCP server's update through the replica: %v %v, want NOERROR signed with its key (verified by the client)", r, err)
	}
	if err := answers("127.0.0.7", paddr, "lease1.corp.example", "10.9.9.1")(); err != nil {
		t.Errorf("the primary: %v", err)
	}
	if r, _ := send("dhcp", xfrSecret, "lease2"); r == nil || r.Rcode != dns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != dns.RcodeBadSig {
		t.Errorf("a wrong secret at the replica: %v, want NOTAUTH BADSIG", r)
	}
	if r, err := send("replica", xfrSecret, "lease3"); err != nil || r.Rcode != dns.RcodeRefused || r.IsTsig() == nil {
		t.Errorf("a key of the replica that may not register: %v %v, want REFUSED, signed", r, err)
	}
	if m := ask(t, "udp", "127.0.0.7", paddr, "lease3.corp.example", dns.TypeA, false); m.Rcode != dns.RcodeNameError {
		t.Errorf("lease3 reached the primary: %v", m.Answer)
	}
}
