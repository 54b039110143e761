package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privdns/privdns/zones/bindtest"
)

// BIND as primary, privdns as its secondary through the real server: the
// first AXFR, then an nsupdate on BIND followed by NOTIFY and IXFR, signed
// with TSIG both ways, within a second.
func TestPrivdnsFollowsBINDThroughTheServer(t *testing.T) {
	bindtest.Named(t)
	bport := bindtest.FreePort(t)
	paddr := freePort(t)
	_, pport, _ := net.SplitHostPort(paddr)
	bind := bindtest.Start(t, bindtest.Config{
		Port:  bport,
		Files: map[string]string{"corp.example.db": bindtest.IXFRZone("3600 1 600 10")},
		Statements: fmt.Sprintf(`key "xfr" { algorithm hmac-sha256; secret "%s"; };
zone "corp.example" {
  type primary;
  file "corp.example.db";
  allow-update { 127.0.0.1; };
  allow-transfer { key "xfr"; };
  notify explicit;
  also-notify { 127.0.0.1 port %s key "xfr"; };
};`, xfrSecret, pport),
	})
	srv := serveText(t, "", fmt.Sprintf(secondaryConfig, paddr, filepath.Join(t.TempDir(), "data"), xfrSecret, bind.Addr))
	within(t, "the first transfer from BIND", answers("127.0.0.3", paddr, "www.corp.example", "10.0.1.1"))

	start := time.Now()
	bind.Update(t, "", "zone corp.example", "update delete www.corp.example A", "update add www.corp.example 60 A 10.0.1.2")
	took := within(t, "the nsupdate reaching privdns", answers("127.0.0.3", paddr, "www.corp.example", "10.0.1.2"))
	t.Logf("nsupdate on BIND answered by privdns %v after nsupdate returned (%v after it started)", took, time.Since(start))
	if took > time.Second {
		t.Errorf("followed BIND's change after %v, want within a second", took)
	}
	if n := metricValue(t, srv.reg, "privdns_zone_serial", map[string]string{"zone": "corp.example."}); n != 2 {
		t.Errorf("privdns_zone_serial = %v, want 2", n)
	}
}

// privdns as primary, BIND as its secondary: BIND transfers the zone
// (signed), and follows a zone-file edit announced by NOTIFY.
func TestBINDFollowsPrivdns(t *testing.T) {
	bindtest.Named(t)
	bport := bindtest.FreePort(t)
	paddr := freePort(t)
	_, pport, _ := net.SplitHostPort(paddr)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "corp.zone"), []byte(primaryZone), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := serveText(t, dir, fmt.Sprintf(primaryConfig, paddr, xfrSecret, `"127.0.0.1:`+strconv.Itoa(bport)+`"`))
	bind := bindtest.Start(t, bindtest.Config{
		Port: bport,
		Statements: fmt.Sprintf(`key "xfr" { algorithm hmac-sha256; secret "%s"; };
zone "corp.example" {
  type secondary;
  file "corp.example.bak";
  primaries { 127.0.0.1 port %s key "xfr"; };
};`, xfrSecret, pport),
	})
	within(t, "BIND's first transfer", answers("127.0.0.1", bind.Addr, "www.corp.example", "10.0.0.1"))

	edited := strings.Replace(primaryZone, "www  60 IN A 10.0.0.1", "www  60 IN A 10.0.0.7", 1)
	edited = strings.Replace(edited, "hostmaster 10 ", "hostmaster 12 ", 1)
	writeAtomic(t, filepath.Join(dir, "corp.zone"), edited)
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	took := within(t, "BIND following the edit", answers("127.0.0.1", bind.Addr, "www.corp.example", "10.0.0.7"))
	t.Logf("BIND followed a zone-file edit %v after the reload", took)
	if !strings.Contains(bind.Log(), "transfer of 'corp.example/IN' from 127.0.0.1#"+pport) {
		t.Errorf("BIND's log does not show the transfers from privdns:\n%s", bind.Log())
	}
}
