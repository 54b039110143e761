package secondary

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones/bindtest"
	"github.com/privdns/privdns/zones/xfr"
)

var bindZone = bindtest.IXFRZone("60 30 600 10")

// bindPrimary starts BIND as the primary of corp.example, notifying
// notifyPort, with transfer (and zone) statements extra.
func bindPrimary(t *testing.T, port, notifyPort int, extra string) *bindtest.Server {
	return bindtest.Start(t, bindtest.Config{
		Port:  port,
		Files: map[string]string{"corp.example.db": bindZone},
		Statements: fmt.Sprintf(`key "xfr" { algorithm hmac-sha256; secret "%s"; };
zone "corp.example" {
  type primary;
  file "corp.example.db";
  allow-update { 127.0.0.1; };
  also-notify { 127.0.0.1 port %d; };
  %s
};`, secretA, notifyPort, extra),
	})
}

func TestFollowsBINDThroughNotifyAndIXFR(t *testing.T) {
	bindtest.Named(t)
	port := bindtest.FreePort(t)
	h := newHarness(t, []string{fmt.Sprintf("127.0.0.1:%d", port)}, func(o *Options) { o.Timeout = 2 * time.Second })
	notified := make(chan struct{}, 10)
	notifyAddr := listen(t, nil, func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Opcode == dns.OpcodeNotify {
			h.s.HandleNotify(w, r)
			notified <- struct{}{}
		}
	})
	_, notifyPort := splitPort(t, notifyAddr)
	bind := bindPrimary(t, port, notifyPort, "allow-transfer { 127.0.0.1; };")
	select { // BIND notifies at start: that check comes right after the first
	case <-notified:
	case <-time.After(10 * time.Second):
		t.Fatalf("BIND sent no NOTIFY at start:\n%s", bind.Log())
	}
	h.run()
	h.clock.Wait(t)
	if h.www() != "10.0.1.1" {
		t.Fatalf("first load from BIND: www = %q\n%s", h.www(), h.log)
	}

	start := time.Now()
	bind.Update(t, "", "zone corp.example", "update delete www.corp.example A", "update add www.corp.example 60 A 10.0.1.2", "update add new.corp.example 60 TXT \"from nsupdate\"")
	select {
	case <-notified:
	case <-time.After(10 * time.Second):
		t.Fatalf("BIND sent no NOTIFY after the update:\n%s", bind.Log())
	}
	h.clock.Wait(t) // BIND's NOTIFY reached HandleNotify, and the check ran
	if took := time.Since(start); took > time.Second {
		t.Errorf("followed the update after %v, want within a second", took)
	}
	if h.www() != "10.0.1.2" || len(h.s.Current().Lookup("new.corp.example.", dns.TypeTXT).Records) != 1 {
		t.Fatalf("after nsupdate: www = %q\n%s", h.www(), h.log)
	}
	if !h.logHas("zone transferred", "kind=IXFR", "serial=2") {
		t.Errorf("the change did not come by IXFR:\n%s", h.log)
	}
	if h.s.Status().Serial != 2 || h.transfers(xfr.Success) != 2 {
		t.Errorf("status %+v, successes %v", h.s.Status(), h.transfers(xfr.Success))
	}
}

func TestTSIGAgainstBIND(t *testing.T) {
	bindtest.Named(t)
	bind := bindPrimary(t, 0, bindtest.FreePort(t), `allow-transfer { key "xfr"; };`)
	key, _ := xfr.NewKey("xfr", "hmac-sha256", secretA)
	wrong, _ := xfr.NewKey("xfr", "hmac-sha256", "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMzI=")
	for _, c := range []struct {
		name    string
		key     *xfr.Key
		wantWWW string
		wantLog string
	}{
		{"the key BIND requires", key, "10.0.1.1", "zone transferred"},
		{"no key", nil, "", "AXFR: the primary answered REFUSED"},
		{"the wrong secret", wrong, "", "NOTAUTH (TSIG BADSIG)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, []string{bind.Addr}, func(o *Options) { o.Key = c.key; o.Timeout = 2 * time.Second })
			h.run()
			if h.www() != c.wantWWW || !h.logHas(c.wantLog) {
				t.Errorf("www = %q, want %q; log without %q?\n%s", h.www(), c.wantWWW, c.wantLog, h.log)
			}
		})
	}
}

func splitPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	var host string
	var port int
	if _, err := fmt.Sscanf(addr, "127.0.0.1:%d", &port); err != nil {
		t.Fatalf("address %s: %v", addr, err)
	}
	return host, port
}
