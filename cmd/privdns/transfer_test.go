package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/zones/datadir"
)

// The key of the transfer tests, base64 of 32 octets.
const (
	xfrSecret   = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
	otherSecret = "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMTI="
)

// within asks until check passes or 10 s have gone, and returns how
// long it took. It is for what another process or goroutine does in its own
// time (a transfer, a NOTIFY); the deadline only bounds a failure.
func within(t *testing.T, what string, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < 10*time.Second {
		if err = check(); err == nil {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: still not after 10 s: %v", what, err)
	return 0
}

// dialFrom opens a TCP connection to addr from the address src.
func dialFrom(src, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", addr)
}

// answers checks that name has exactly the A record addr when asked from
// src at addr.
func answers(src, server, name, want string) func() error {
	return func() error {
		m, err := askErr("udp", src, server, name, dns.TypeA, false)
		if err != nil {
			return err
		}
		if m.Rcode != dns.RcodeSuccess || lastA(m) != want {
			return fmt.Errorf("%s: %s %v, want %s", name, dns.RcodeToString[m.Rcode], m.Answer, want)
		}
		return nil
	}
}

const primaryZone = `$ORIGIN corp.example.
@    60 IN SOA ns hostmaster 10 3600 1 600 60
@    60 IN NS ns
ns   60 IN A 10.0.0.53
www  60 IN A 10.0.0.1
`

// primaryConfig is a privdns primary of corp.example: transfers from
// 127.0.0.0/24 signed with xfr, NOTIFY to notify.
const primaryConfig = `server: {listeners: [{address: "%s"}], http: ""}
upstreams: {servers: ["127.0.0.1:9"]}
networks: [{name: n, addressPrefixes: ["127.0.0.0/24"]}]
tsigKeys:
  - {name: xfr, algorithm: hmac-sha256, secret: "%s"}
zones:
  - name: corp.example
    file: corp.zone
    transfer: {allow: ["127.0.0.0/24"], tsigKey: xfr, notify: [%s]}
    links: [{name: l, network: n}]
`

// secondaryConfig follows corp.example from a primary, signed with xfr.
const secondaryConfig = `server: {listeners: [{address: "%s"}], http: "", dataDir: "%s"}
upstreams: {servers: ["127.0.0.1:9"]}
networks: [{name: n, addressPrefixes: ["127.0.0.0/24"]}]
tsigKeys:
  - {name: xfr, algorithm: hmac-sha256, secret: "%s"}
zones:
  - name: corp.example
    primaries: ["%s"]
    tsigKey: xfr
    links: [{name: l, network: n}]
`

// A privdns secondary follows a privdns primary: the first AXFR, then a
// zone-file edit on the primary (serial not raised) served with the served
// serial + 1, announced by NOTIFY and fetched by IXFR; a reload that keeps
// the zone keeps its data without transferring again; and a restart with the
// primary down serves the copy kept in dataDir.
func TestAPrivdnsSecondaryFollowsAPrivdnsPrimary(t *testing.T) {
	pdir, sdir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(pdir, "corp.zone"), []byte(primaryZone), 0o644); err != nil {
		t.Fatal(err)
	}
	paddr, saddr := freePort(t), freePort(t)
	saddr = strings.Replace(saddr, "127.0.0.1", "127.0.0.2", 1)
	primary := serveText(t, pdir, fmt.Sprintf(primaryConfig, paddr, xfrSecret, `"`+saddr+`"`))
	data := filepath.Join(sdir, "data")
	secText := fmt.Sprintf(secondaryConfig, saddr, data, xfrSecret, paddr)
	second := serveText(t, sdir, secText)

	took := within(t, "the first transfer", answers("127.0.0.3", saddr, "www.corp.example", "10.0.0.1"))
	t.Logf("first AXFR answered after %v", took)
	if m := ask(t, "udp", "127.0.0.3", saddr, "nothere.corp.example", dns.TypeA, false); m.Rcode != dns.RcodeNameError {
		t.Errorf("a missing name of the secondary zone: %s, want NXDOMAIN", dns.RcodeToString[m.Rcode])
	}

	// An edit without a higher serial: served as 11, and followed.
	edited := strings.Replace(primaryZone, "www  60 IN A 10.0.0.1", "www  60 IN A 10.0.0.2\nnew  60 IN A 10.0.0.3", 1)
	writeAtomic(t, filepath.Join(pdir, "corp.zone"), edited)
	if err := primary.Reload("test"); err != nil {
		t.Fatal(err)
	}
	soa := ask(t, "udp", "127.0.0.1", paddr, "corp.example", dns.TypeSOA, false)
	if len(soa.Answer) != 1 || soa.Answer[0].(*dns.SOA).Serial != 11 {
		t.Fatalf("the primary's SOA after an edit without a new serial: %v, want serial 11", soa.Answer)
	}
	took = within(t, "the edit reaching the secondary", answers("127.0.0.3", saddr, "new.corp.example", "10.0.0.3"))
	t.Logf("edit followed %v after the reload (NOTIFY, then IXFR)", took)
	if err := answers("127.0.0.3", saddr, "www.corp.example", "10.0.0.2")(); err != nil {
		t.Error(err)
	}
	within(t, "the primary counting its transfers", func() error {
		if n := metricValue(t, primary.reg, "privdns_zone_transfers_total", map[string]string{"direction": "out", "result": "success"}); n < 2 {
			return fmt.Errorf("the primary counted %v successful outbound transfers, want 2 (AXFR, IXFR)", n)
		}
		return nil
	})
	inbound := map[string]string{"zone": "corp.example.", "direction": "in", "result": "success"}
	// Counted just after the new data is swapped in.
	within(t, "the second inbound transfer counted", func() error {
		if n := metricValue(t, second.reg, "privdns_zone_transfers_total", inbound); n != 2 {
			return fmt.Errorf("%v inbound transfers, want 2", n)
		}
		return nil
	})
	in := metricValue(t, second.reg, "privdns_zone_transfers_total", inbound)
	if serial := metricValue(t, second.reg, "privdns_zone_serial", map[string]string{"zone": "corp.example."}); serial != 11 {
		t.Errorf("privdns_zone_serial of the secondary = %v, want 11", serial)
	}

	// A reload of the same configuration keeps the secondary as it is.
	kept := second.zones.secs["corp.example."]
	if err := second.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if second.zones.secs["corp.example."] != kept || kept == nil {
		t.Error("a reload that keeps the zone replaced its secondary")
	}
	if err := answers("127.0.0.3", saddr, "new.corp.example", "10.0.0.3")(); err != nil {
		t.Errorf("after a reload: %v", err)
	}
	if again := metricValue(t, second.reg, "privdns_zone_transfers_total", inbound); again != in {
		t.Errorf("a reload that keeps the zone transferred it again: %v transfers, was %v", again, in)
	}

	// The primary goes away, the secondary restarts: the copy serves.
	primary.Close()
	second.Close()
	second = serveText(t, sdir, secText)
	if err := answers("127.0.0.3", saddr, "new.corp.example", "10.0.0.3")(); err != nil {
		t.Errorf("restarted with the primary down: %v; want the dataDir copy served", err)
	}

	// explain, beside the running server, answers from the same copy and
	// says where it came from.
	out, errOut, code := run(t, "explain", "--config", filepath.Join(sdir, "privdns.yaml"), "--from", "127.0.0.3", "new.corp.example")
	if code != 0 || !strings.Contains(out, "secondary zone corp.example (primaries "+paddr+"): data from the copy in "+data+": serial 11") ||
		!strings.Contains(out, "10.0.0.3") {
		t.Errorf("explain of a secondary zone: exit %d\n%s%s", code, out, errOut)
	}
}

// Who may transfer (R12): signed with the zone's key, from transfer.allow;
// unsigned or from elsewhere REFUSED, a wrong key NOTAUTH; an SOA query
// from transfer.allow is answered with AA, one from a client network is
// resolved as any query.
func TestTransfersAreJudgedByR12(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "corp.zone"), []byte(primaryZone), 0o644); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(fmt.Sprintf(primaryConfig, "127.0.0.1:0", xfrSecret, ""),
		`allow: ["127.0.0.0/24"]`, `allow: ["127.0.0.0/30"]`, 1)
	text = strings.Replace(text, "tsigKeys:\n", "tsigKeys:\n  - {name: other, algorithm: hmac-sha512, secret: \""+otherSecret+"\"}\n", 1)
	srv := serveText(t, dir, text)
	addr := srv.addrs()[0]

	axfr := func(src, key, secret string) (rcode int, records int, err error) {
		tr := &dns.Transfer{}
		if key != "" {
			tr.TsigSecret = map[string]string{key: secret}
		}
		tr.DialTimeout, tr.ReadTimeout = 5*time.Second, 5*time.Second
		m := new(dns.Msg)
		m.SetAxfr("corp.example.")
		if key != "" {
			m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
		}
		conn, err := dialFrom(src, addr)
		if err != nil {
			return 0, 0, err
		}
		tr.Conn = &dns.Conn{Conn: conn, TsigSecret: tr.TsigSecret}
		ch, err := tr.In(m, addr)
		if err != nil {
			return 0, 0, err
		}
		for env := range ch {
			if env.Error != nil {
				return -1, records, env.Error
			}
			records += len(env.RR)
		}
		return dns.RcodeSuccess, records, nil
	}
	if _, n, err := axfr("127.0.0.1", "xfr.", xfrSecret); err != nil || n != 5 {
		t.Errorf("signed AXFR from transfer.allow: %d records, %v; want the zone (5 records, SOA twice)", n, err)
	}
	// Refusals, asked with a client that keeps the reply whatever its
	// TSIG says: an error reply to a bad signature is unsigned.
	refused := func(src, key, alg, secret string) (int, error) {
		m := new(dns.Msg)
		m.SetAxfr("corp.example.")
		c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}}
		if key != "" {
			m.SetTsig(key, alg, 300, time.Now().Unix())
			c.TsigSecret = map[string]string{key: secret}
		}
		r, _, err := c.Exchange(m, addr)
		if r == nil {
			return -1, err
		}
		return r.Rcode, nil
	}
	for _, c := range []struct {
		what, src, key, alg, secret string
		want                        int
	}{
		{"unsigned", "127.0.0.1", "", "", "", dns.RcodeRefused},
		{"signed with another valid key", "127.0.0.1", "other.", dns.HmacSHA512, otherSecret, dns.RcodeRefused},
		{"signed with a wrong secret", "127.0.0.1", "xfr.", dns.HmacSHA256, otherSecret, dns.RcodeNotAuth},
		{"signed with an unknown key", "127.0.0.1", "nokey.", dns.HmacSHA256, xfrSecret, dns.RcodeNotAuth},
		{"from outside transfer.allow", "127.0.0.9", "xfr.", dns.HmacSHA256, xfrSecret, dns.RcodeRefused},
	} {
		if got, err := refused(c.src, c.key, c.alg, c.secret); got != c.want {
			t.Errorf("AXFR %s: %s (%v), want %s", c.what, dns.RcodeToString[got], err, dns.RcodeToString[c.want])
		}
	}

	signedSOA := new(dns.Msg)
	signedSOA.SetQuestion("corp.example.", dns.TypeSOA)
	signedSOA.SetTsig("xfr.", dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, TsigSecret: map[string]string{"xfr.": xfrSecret},
		Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.2")}}}
	if m, _, err := c.Exchange(signedSOA, addr); err != nil || !m.Authoritative || len(m.Answer) != 1 || m.IsTsig() == nil {
		t.Errorf("signed SOA from transfer.allow: %v, %v; want the SOA with AA, signed", m, err)
	}
	for _, src := range []string{"127.0.0.2", "127.0.0.9"} {
		m := ask(t, "udp", src, addr, "corp.example", dns.TypeSOA, false)
		if m.Authoritative || len(m.Answer) != 1 || !m.RecursionAvailable {
			t.Errorf("unsigned SOA from %s in a client network: AA %v RA %v %v; want the private answer as R3 gives it", src, m.Authoritative, m.RecursionAvailable, m.Answer)
		}
	}
	if m := ask(t, "tcp", "127.0.1.1", addr, "corp.example", dns.TypeAXFR, false); m.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR from a source in no network and not allowed: %s, want REFUSED", dns.RcodeToString[m.Rcode])
	}
	// Counted as the transfer ends, which may be just after its reply.
	within(t, "the refused transfers counted", func() error {
		if n := metricValue(t, srv.reg, "privdns_zone_transfers_total", map[string]string{"zone": "corp.example.", "direction": "out", "result": "refused"}); n < 3 {
			return fmt.Errorf("refused transfers counted %v, want at least 3", n)
		}
		return nil
	})
}

// NOTIFY (R12): from an address that is not a primary's REFUSED, for a
// zone privdns does not hold NOTAUTH, for a zone of a file REFUSED.
func TestNotifyFromStrangersIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "corp.zone"), []byte(primaryZone), 0o644); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf(primaryConfig, "127.0.0.1:0", xfrSecret, "") + `  - name: follow.example
    primaries: ["127.0.0.5:9"]
    links: [{name: l2, network: n}]
`
	srv := serveText(t, dir, text)
	addr := srv.addrs()[0]
	notify := func(src, zone string) int {
		m := new(dns.Msg)
		m.SetNotify(zone)
		resp := resolvertest.ExchangeFrom(t, "udp", src, addr, m)
		if resp.RecursionAvailable || resp.AuthenticatedData || resp.CheckingDisabled {
			t.Errorf("NOTIFY reply with RA/AD/CD set: %v", resp.MsgHdr)
		}
		return resp.Rcode
	}
	for _, c := range []struct {
		src, zone string
		want      int
	}{
		{"127.0.0.5", "follow.example.", dns.RcodeSuccess},  // its primary, any port
		{"127.0.0.6", "follow.example.", dns.RcodeRefused},  // a stranger
		{"127.0.0.5", "unknown.example.", dns.RcodeNotAuth}, // not held
		{"127.0.0.5", "corp.example.", dns.RcodeRefused},    // a zone of a file has no primaries
	} {
		if got := notify(c.src, c.zone); got != c.want {
			t.Errorf("NOTIFY for %s from %s: %s, want %s", c.zone, c.src, dns.RcodeToString[got], dns.RcodeToString[c.want])
		}
	}
}

// A secondary zone with no data yet (its primary unreachable) answers
// SERVFAIL, with a reason that names no address, and never sends its
// names to the public path.
func TestASecondaryZoneWithoutDataIsServfail(t *testing.T) {
	public := resolvertest.New(t, resolvertest.MustPublic("www.corp.example. 60 IN A 192.0.2.66", "www.example.com. 60 IN A 192.0.2.1"))
	srv := serveText(t, "", fmt.Sprintf(`server: {listeners: [{address: "127.0.0.1:0"}], http: "", explain: true}
upstreams: {servers: ["%s"]}
networks: [{name: n, addressPrefixes: ["127.0.0.0/8"]}]
zones:
  - name: corp.example
    primaries: ["127.0.0.1:9"]
    links: [{name: l, network: n}]
`, public.Addr))
	addr := srv.addrs()[0]
	m := ask(t, "udp", "127.0.0.1", addr, "www.corp.example", dns.TypeA, true)
	if m.Rcode != dns.RcodeServerFailure {
		t.Fatalf("a name of a secondary zone without data: %s %v, want SERVFAIL", dns.RcodeToString[m.Rcode], m.Answer)
	}
	texts := resolvertest.EDETexts(m)
	if len(texts) != 1 || strings.Contains(texts[0], "127.0.0.1") || !strings.Contains(texts[0], "no data") {
		t.Errorf("EDE %q: want one reason saying the zone has no data, naming no address", texts)
	}
	if m := ask(t, "udp", "127.0.0.1", addr, "www.example.com", dns.TypeA, false); lastA(m) != "192.0.2.1" {
		t.Errorf("a public name: %v, want the upstream's answer", m.Answer)
	}
}

// The served serial of a zone with a transfer block is kept in dataDir
// (R12): an edit without a higher serial, made while privdns was down, is
// served after the restart with the served serial + 1, never with the
// file's lower one, and an unchanged file keeps the served serial.
func TestTheServedSerialSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	zone := filepath.Join(dir, "corp.zone")
	if err := os.WriteFile(zone, []byte(primaryZone), 0o644); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(fmt.Sprintf(primaryConfig, "127.0.0.1:0", xfrSecret, ""), `http: ""}`, `http: "", dataDir: data}`, 1)
	serial := func(srv *server) uint32 {
		m := ask(t, "udp", "127.0.0.1", srv.addrs()[0], "corp.example", dns.TypeSOA, false)
		if len(m.Answer) != 1 {
			t.Fatalf("no SOA: %v", m)
		}
		return m.Answer[0].(*dns.SOA).Serial
	}
	edit := func(addr string) {
		text, err := os.ReadFile(zone)
		if err != nil {
			t.Fatal(err)
		}
		writeAtomic(t, zone, string(text)+"host-"+strings.ReplaceAll(addr, ".", "-")+" 60 IN A "+addr+"\n")
	}
	srv := serveText(t, dir, text)
	if got := serial(srv); got != 10 {
		t.Fatalf("first start: serial %d, want the file's 10", got)
	}
	edit("10.0.0.20")
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if got := serial(srv); got != 11 {
		t.Fatalf("after an edit without a new serial: %d, want 11", got)
	}
	srv.Close()
	srv = serveText(t, dir, text)
	if got := serial(srv); got != 11 {
		t.Errorf("restarted with the file unchanged: serial %d, want the served 11", got)
	}
	srv.Close()
	edit("10.0.0.21")
	srv = serveText(t, dir, text)
	if got := serial(srv); got != 12 {
		t.Errorf("restarted after an edit made while down: serial %d, want 12", got)
	}
}

// explain answers a secondary zone as the server would: from a copy in
// dataDir confirmed within its SOA expire, and SERVFAIL from one older.
func TestExplainTellsAnExpiredCopyFromAFreshOne(t *testing.T) {
	for _, c := range []struct {
		age       time.Duration
		want, not string
	}{
		{time.Minute, "final: NOERROR", "expired"},
		{time.Hour, "expired: the copy in", "final: NOERROR"},
	} {
		dir := t.TempDir()
		store, err := datadir.Open(filepath.Join(dir, "data"), nil)
		if err != nil {
			t.Fatal(err)
		}
		var rrs []dns.RR
		for _, r := range []string{"corp.example. 60 IN SOA ns.corp.example. h.corp.example. 7 60 60 600 60", "corp.example. 60 IN NS ns.corp.example.", "www.corp.example. 60 IN A 10.0.0.1"} {
			rr, _ := dns.NewRR(r)
			rrs = append(rrs, rr)
		}
		if err := store.SaveZone("corp.example.", datadir.ZoneCopy{Zone: "corp.example.", Serial: 7, Records: rrs, Checked: time.Now().Add(-c.age)}); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "privdns.yaml")
		if err := os.WriteFile(file, []byte(fmt.Sprintf(secondaryConfig, "127.0.0.1:0", "data", xfrSecret, "127.0.0.1:9")), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, _ := run(t, "explain", "--config", file, "--from", "127.0.0.3", "www.corp.example")
		if !strings.Contains(out, c.want) || strings.Contains(out, c.not) {
			t.Errorf("a copy confirmed %v ago (SOA expire 600 s): want %q and no %q in\n%s%s", c.age, c.want, c.not, out, errOut)
		}
	}
}
