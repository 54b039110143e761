package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// sameSizeEdit rewrites path with text, as long as it was, and puts its
// modification time back: only the bytes tell the edit.
func sameSizeEdit(t *testing.T, path, text string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(text)) != fi.Size() {
		t.Fatalf("edit of %s: %d bytes for %d", path, len(text), fi.Size())
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

func addressOf(t *testing.T, addr, name string) string {
	t.Helper()
	m := ask(t, "udp", "127.0.1.7", addr, name, dns.TypeA, true)
	if len(m.Answer) != 1 {
		return dns.RcodeToString[m.Rcode]
	}
	return m.Answer[0].(*dns.A).A.String()
}

// A reload keeps the data of the zones whose files did not change (the
// same *zones.Zone) and serves the edited one, also when the edit keeps
// the file's size and modification time, and also for answers that were
// ready-packed before.
func TestAReloadKeepsUnchangedZonesAndServesEditedOnes(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"one.zone": "x 60 IN A 10.0.1.1\n", "two.zone": "x 60 IN A 10.0.2.1\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := serveText(t, dir, `server: {listeners: [{address: "127.0.0.1:0"}], http: ""}
upstreams: {servers: ["127.0.0.1:9"]}
networks: [{name: a, addressPrefixes: ["127.0.1.0/24"]}]
zones:
  - {name: one.example, file: one.zone, links: [{name: l1, network: a}]}
  - {name: two.example, file: two.zone, links: [{name: l2, network: a}]}
`)
	addr := srv.addrs()[0]
	for range 2 { // the second is a ready-packed answer
		if got := addressOf(t, addr, "x.two.example"); got != "10.0.2.1" {
			t.Fatalf("x.two.example = %s before the edit", got)
		}
	}
	one, two := srv.cfg.Zones[0].Data, srv.cfg.Zones[1].Data
	sameSizeEdit(t, filepath.Join(dir, "two.zone"), "x 60 IN A 10.0.2.9\n")
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if srv.cfg.Zones[0].Data != one {
		t.Error("one.example was parsed again though its file is unchanged")
	}
	if srv.cfg.Zones[1].Data == two {
		t.Error("two.example kept its old data though its file was edited")
	}
	if got := addressOf(t, addr, "x.two.example"); got != "10.0.2.9" {
		t.Errorf("x.two.example = %s after the edit, want 10.0.2.9", got)
	}
	if got := addressOf(t, addr, "x.one.example"); got != "10.0.1.1" {
		t.Errorf("x.one.example = %s, want the unchanged 10.0.1.1", got)
	}
	two = srv.cfg.Zones[1].Data
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if srv.cfg.Zones[0].Data != one || srv.cfg.Zones[1].Data != two {
		t.Error("a reload with no file changed parsed a zone again")
	}
}

// A zone with a transfer block whose file is unchanged keeps its served
// serial across reloads, the one raised for an edit without a new serial
// included; the next such edit raises it once more.
func TestAnUnchangedZoneKeepsItsServedSerial(t *testing.T) {
	dir := t.TempDir()
	zone := filepath.Join(dir, "corp.zone")
	if err := os.WriteFile(zone, []byte(primaryZone), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := serveText(t, dir, fmt.Sprintf(primaryConfig, "127.0.0.1:0", xfrSecret, ""))
	serial := func() uint32 {
		t.Helper()
		m := ask(t, "udp", "127.0.0.1", srv.addrs()[0], "corp.example", dns.TypeSOA, false)
		if len(m.Answer) != 1 {
			t.Fatalf("no SOA: %v", m)
		}
		return m.Answer[0].(*dns.SOA).Serial
	}
	reload := func() {
		t.Helper()
		if err := srv.Reload("test"); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		what string
		edit string // the address of www; "" = no edit
		want uint32
	}{
		{"unchanged", "", 10},
		{"edited, serial kept", "10.0.0.2", 11},
		{"unchanged after the edit", "", 11},
		{"edited again", "10.0.0.3", 12},
		{"unchanged again", "", 12},
	}
	for _, s := range steps {
		if s.edit != "" {
			sameSizeEdit(t, zone, strings.Replace(primaryZone, "10.0.0.1", s.edit, 1))
		}
		reload()
		if got := serial(); got != s.want {
			t.Errorf("%s: served serial %d, want %d", s.what, got, s.want)
		}
	}
}
