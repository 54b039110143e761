package xfr

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/zones/bindtest"
)

// primaryUnderTest serves whatever Outbound is current, as the server
// will, and announces each request it answered.
type primaryUnderTest struct {
	out      atomic.Pointer[Outbound]
	answered chan uint16
	log      *resolvertest.LogBuffer
	addr     string
}

func startPrimary(t *testing.T, o *Outbound, kr Keyring) *primaryUnderTest {
	p := &primaryUnderTest{answered: make(chan uint16, 100), log: &resolvertest.LogBuffer{}}
	o.Logger = slog.New(slog.NewTextHandler(p.log, nil))
	p.out.Store(o)
	p.addr, _ = startServer(t, kr, func(w dns.ResponseWriter, r *dns.Msg) {
		Serve(w, r, p.out.Load())
		p.answered <- r.Question[0].Qtype
	})
	return p
}

func bindSecondary(t *testing.T, primary, keyClause, secret string) *bindtest.Server {
	var port int
	fmt.Sscanf(primary, "127.0.0.1:%d", &port)
	return bindtest.Start(t, bindtest.Config{Statements: fmt.Sprintf(`key "xfr" { algorithm hmac-sha256; secret "%s"; };
zone "corp.example" {
  type secondary;
  primaries { 127.0.0.1 port %d %s; };
  file "corp.example.sec";
};`, secret, port, keyClause)})
}

func bindZoneRecords(serial int, www string) []string {
	recs := []string{fmt.Sprintf("@ 3600 IN SOA ns1 hm %d 60 30 600 10", serial), "@ 60 IN NS ns1", "ns1 60 IN A 10.0.0.53", "www 60 IN A " + www}
	for i := range 30 {
		recs = append(recs, fmt.Sprintf("host-%d 60 IN A 10.0.3.%d", i, i))
	}
	return recs
}

func TestBINDFollowsPrivdnsAsPrimary(t *testing.T) {
	bindtest.Named(t)
	key := mustKey(t, "xfr", "hmac-sha256", secretA)
	v1 := mustZone(t, "corp.example", bindZoneRecords(7, "10.0.1.1")...)
	hist := NewHistory(HistoryOptions{})
	p := startPrimary(t, &Outbound{Zone: v1, History: hist, Allow: loopback(), Key: key}, NewKeyring(key))

	bind := bindSecondary(t, p.addr, `key "xfr"`, secretA)
	loaded := bind.Watch("transfer of 'corp.example/IN'", "Transfer status: success")
	bindtest.WaitLine(t, bind, loaded, "the first transfer", 20*time.Second)
	if r := bind.Query(t, "www.corp.example.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.0.1.1" {
		t.Fatalf("BIND answers %v, want 10.0.1.1", r)
	}

	// The zone file is edited without raising its serial: served as 8.
	edited := mustZone(t, "corp.example", bindZoneRecords(7, "10.0.1.2")...)
	v2, warn := NextServed(v1, edited)
	if v2.SOA().Serial != 8 || warn == "" {
		t.Fatalf("NextServed = %d, %q", v2.SOA().Serial, warn)
	}
	hist.Add(v1, v2)
	o := *p.out.Load()
	o.Zone = v2
	p.out.Store(&o)

	followed := bind.Watch("transfer of 'corp.example/IN'", "Transfer status: success")
	n := NewNotifier(NotifierOptions{Source: netip.MustParseAddr("127.0.0.1")})
	if err := n.Send(context.Background(), "corp.example.", v2.SOA(), bind.Addr, key); err != nil {
		t.Fatalf("NOTIFY to BIND: %v\n%s", err, bind.Log())
	}
	bindtest.WaitLine(t, bind, followed, "the transfer after NOTIFY", 20*time.Second)
	if r := bind.Query(t, "www.corp.example.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.0.1.2" {
		t.Errorf("after the edit BIND answers %v, want 10.0.1.2", r)
	}
	if r := bind.Query(t, "corp.example.", dns.TypeSOA); len(r.Answer) != 1 || r.Answer[0].(*dns.SOA).Serial != 8 {
		t.Errorf("BIND's SOA = %v, want serial 8", r.Answer)
	}
	if !strings.Contains(p.log.String(), "kind=IXFR ") {
		t.Errorf("BIND's refresh was not answered from the history:\n%s", p.log)
	}
}

func TestBINDWithoutTheRightKeyIsRefused(t *testing.T) {
	bindtest.Named(t)
	key := mustKey(t, "xfr", "hmac-sha256", secretA)
	for _, c := range []struct {
		name, clause, secret, wantWhy string
	}{
		{"unsigned", "", secretA, "why=\"unsigned, and transfer.tsigKey is set\""},
		{"the wrong secret", `key "xfr"`, secretB, "why=\"bad TSIG\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startPrimary(t, &Outbound{Zone: mustZone(t, "corp.example", zoneV1...), Allow: loopback(), Key: key}, NewKeyring(key))
			bind := bindSecondary(t, p.addr, c.clause, c.secret)
			select {
			case <-p.answered:
			case <-time.After(20 * time.Second):
				t.Fatalf("BIND never asked:\n%s", bind.Log())
			}
			if !strings.Contains(p.log.String(), c.wantWhy) {
				t.Errorf("log holds no refusal %s:\n%s", c.wantWhy, p.log)
			}
			if r := bind.Query(t, "www.corp.example.", dns.TypeA); r.Rcode != dns.RcodeServerFailure {
				t.Errorf("BIND answers %s, want SERVFAIL (no data)", dns.RcodeToString[r.Rcode])
			}
		})
	}
}
