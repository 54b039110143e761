package registration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones/datadir"
)

func TestRegistrationsAndSerialSurviveARestart(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.update(dhcp, dns.RcodeSuccess, "up h1 0 IN A 10.2.0.1", `up h1 0 IN TXT "lease 7"`, "up h1 0 IN DHCID "+dhcidA)
	w.update(vm2, dns.RcodeRefused, "up vm 0 IN A 10.1.0.5")
	serial := w.serial()
	w.restart()
	if w.serial() != serial {
		t.Errorf("serial %d after a restart, %d before", w.serial(), serial)
	}
	w.wantServed("vm", dns.TypeA, "vm.corp.example. 10 IN A 10.1.0.4")
	w.wantServed("h1", dns.TypeTXT, `h1.corp.example. 10 IN TXT "lease 7"`)
	w.wantServed("h1", dns.TypeDHCID, "h1.corp.example. 10 IN DHCID "+dhcidA)
	if r, _ := w.reg.Lookup("h1." + apex); r.By != dhcp {
		t.Errorf("h1 belongs to %s after a restart, want key dhcp", r.By)
	}
	// Ownership survives too.
	w.update(vm2, dns.RcodeRefused, "up vm 0 IN A 10.1.0.5")
	w.update(vm1, dns.RcodeSuccess, "up vm 0 NONE A 10.1.0.4")
	if w.serial() != serial+1 {
		t.Errorf("serial %d after a change following a restart, want %d", w.serial(), serial+1)
	}
	// The journal was compacted at open: one snapshot, one record since.
	w.restart()
	if w.reg.Registrations() != 1 || w.serial() != serial+1 {
		t.Errorf("after a second restart: %d names, serial %d", w.reg.Registrations(), w.serial())
	}
}

func TestServedSerialAcrossRestartsAndReloads(t *testing.T) {
	w := newWorld(t)
	if w.serial() != 5 {
		t.Fatalf("first serial %d, want the file's 5", w.serial())
	}
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4") // 6
	// The file changes while privdns is down, its serial still 5: one above.
	w.opts.Manual = manual(t, "new 3600 IN A 10.0.0.1")
	w.restart()
	if w.serial() != 7 {
		t.Errorf("serial %d after the data changed while stopped, want 7", w.serial())
	}
	// The same data again: the serial stays.
	w.restart()
	if w.serial() != 7 {
		t.Errorf("serial %d after a restart without changes, want 7", w.serial())
	}
	// A file serial ahead is taken as it is.
	z := manual(t, "new 3600 IN A 10.0.0.1")
	z = z.WithSerial(2026030101)
	if warn, err := w.reg.Reload(z, w.opts.Settings); err != nil || warn != "" || w.serial() != 2026030101 {
		t.Fatalf("Reload with a higher serial = %q, %v; serial %d", warn, err, w.serial())
	}
	// A change without raising the serial: one above, and a warning.
	warn, err := w.reg.Reload(manual(t, "newer 3600 IN A 10.0.0.2").WithSerial(2026030101), w.opts.Settings)
	if err != nil || !strings.Contains(warn, "serving it with serial 2026030102") || w.serial() != 2026030102 {
		t.Fatalf("Reload = %q, %v; serial %d", warn, err, w.serial())
	}
	w.opts.Manual = manual(t, "newer 3600 IN A 10.0.0.2").WithSerial(2026030101)
	w.restart()
	if w.serial() != 2026030102 {
		t.Errorf("serial %d after a restart, want 2026030102 kept in the journal", w.serial())
	}
}

func TestReloadKeepsRegistrationsButManualNamesWin(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.update(vm2, dns.RcodeSuccess, "up vm2 0 IN A 10.1.0.5")
	set := w.opts.Settings
	set.TTL = 30 * time.Second
	if _, err := w.reg.Reload(manual(t, "vm2 3600 IN TXT \"mine now\""), set); err != nil {
		t.Fatal(err)
	}
	w.wantServed("vm", dns.TypeA, "vm.corp.example. 30 IN A 10.1.0.4") // the new TTL
	w.wantServed("vm2", dns.TypeA)
	if w.reg.Registrations() != 1 || !strings.Contains(w.log.String(), "registration dropped") {
		t.Errorf("%d names after the manual data took vm2; log %q", w.reg.Registrations(), w.log.String())
	}
	w.opts.Manual, w.opts.Settings = manual(t, "vm2 3600 IN TXT \"mine now\""), set
	w.restart()
	if w.reg.Registrations() != 1 {
		t.Errorf("%d names after a restart", w.reg.Registrations())
	}
	// Keys removed from the settings may no longer update.
	set.Keys = nil
	w.reg.Reload(w.opts.Manual, set)
	w.update(dhcp, dns.RcodeRefused, "up h1 0 IN A 10.2.0.1")
}

func TestTornJournalTailLosesOnlyTheTornUpdate(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.update(vm2, dns.RcodeSuccess, "up vm2 0 IN A 10.1.0.5")
	w.reg.Close()
	path := filepath.Join(w.dir, "journals", "corp.example%2E.journal")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of the second record's write.
	if err := os.WriteFile(path, data[:len(data)-7], 0o600); err != nil {
		t.Fatal(err)
	}
	w.open()
	if !strings.Contains(w.log.String(), "torn tail cut") {
		t.Errorf("no torn tail logged: %q", w.log.String())
	}
	if w.served("vm", dns.TypeA) == nil || w.served("vm2", dns.TypeA) != nil || w.reg.Registrations() != 1 {
		t.Fatalf("after a torn tail: vm %v, vm2 %v", w.served("vm", dns.TypeA), w.served("vm2", dns.TypeA))
	}
	// Updates go on after the cut.
	w.update(vm2, dns.RcodeSuccess, "up vm2 0 IN A 10.1.0.5")
	w.restart()
	if w.reg.Registrations() != 2 {
		t.Errorf("%d names after appending past a torn tail", w.reg.Registrations())
	}
}

func TestAFailedJournalAppendIsServfailAndChangesNothing(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	serial := w.serial()
	w.reg.journal.Close() // every append fails now
	res := w.update(vm2, dns.RcodeServerFailure, "up vm2 0 IN A 10.1.0.5")
	if !strings.Contains(res.Reason, "journal") {
		t.Errorf("reason %q", res.Reason)
	}
	if w.serial() != serial || w.reg.Registrations() != 1 || w.served("vm2", dns.TypeA) != nil {
		t.Fatal("an update whose journal append failed was applied")
	}
	w.clock.Add(2 * time.Hour)
	if _, err := w.reg.Expire(w.clock.Now()); err == nil || w.reg.Registrations() != 1 {
		t.Fatal("expiry applied without its journal record")
	}
	w.update(vm2, dns.RcodeServerFailure, "up vm2 0 IN A 10.1.0.5") // the due expiry fails first
}

func TestAMemoryOnlyRegistryWorks(t *testing.T) {
	w := newWorld(t, func(o *Options) {})
	w.dir = ""
	w.restart()
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	if w.reg.Registrations() != 1 {
		t.Fatal("no registration without a journal")
	}
}

func TestNewRefusesAJournalRecordItCannotRead(t *testing.T) {
	dir := t.TempDir()
	s, err := datadir.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.OpenJournal(apex)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.Append([]byte(`{"v":1,"serial":9,"names":[{"name":"x","addr":"not an address","rrs":["AAAA"]}]}`))
	if _, err := New(Options{Manual: manual(t), Journal: j}); err == nil || !strings.Contains(err.Error(), "bad journal record") {
		t.Fatalf("New = %v, want an error: the registrations it compacted are nowhere else", err)
	}
}
