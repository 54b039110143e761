package registration

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones/datadir"
)

// readOnly opens the world's registrations read-only, as privdns explain
// does beside the server.
func (w *world) readOnly() *Registry {
	w.t.Helper()
	s, err := datadir.OpenReadOnly(w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	opts := w.opts
	opts.Journal = nil
	r, err := ReadOnly(s, opts)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// A read-only Registry, opened while the writing one runs, serves what it
// serves (the journal's records since the last compaction included), with
// who registered each name and when, and writes nothing: no compaction, a
// torn tail left in place, updates answered SERVFAIL.
func TestReadOnlyServesWhatTheRunningRegistryServes(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.clock.Add(time.Minute)
	w.update(dhcp, dns.RcodeSuccess, "up h1 0 IN A 10.2.0.1", `up h1 0 IN TXT "lease 7"`)
	w.clock.Add(time.Minute)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4") // a renewal
	w.update(vm2, dns.RcodeSuccess, "up gone 0 IN A 10.1.0.5")
	w.update(vm2, dns.RcodeSuccess, "up gone 0 ANY A")

	journal := filepath.Join(w.dir, "journals", "corp.example%2E.journal")
	f, _ := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{0, 0, 1, 0, 9}) // an append in progress
	f.Close()
	before, _ := os.ReadFile(journal)

	ro := w.readOnly()
	if ro.Registrations() != 2 || ro.Current().SOA().Serial != w.serial() {
		t.Fatalf("read-only: %d names at serial %d, want 2 at %d", ro.Registrations(), ro.Current().SOA().Serial, w.serial())
	}
	for _, name := range []string{"vm." + apex, "h1." + apex} {
		want, _ := w.reg.Lookup(name)
		got, ok := ro.Lookup(name)
		if !ok || got.By != want.By || !got.Since.Equal(want.Since) || !got.Renewed.Equal(want.Renewed) || !got.Expires.Equal(want.Expires) || len(got.Records) != len(want.Records) {
			t.Errorf("%s read-only: %+v, want %+v", name, got, want)
		}
		if !ro.Registered(name) {
			t.Errorf("%s not Registered", name)
		}
	}
	if r, _ := ro.Lookup("vm." + apex); !r.Since.Equal(t0) || !r.Renewed.Equal(t0.Add(2*time.Minute)) || !r.Expires.Equal(t0.Add(2*time.Minute+time.Hour)) {
		t.Errorf("vm: since %s renewed %s expires %s", r.Since, r.Renewed, r.Expires)
	}
	if r, _ := ro.Lookup("h1." + apex); r.By != dhcp || !r.Expires.IsZero() {
		t.Errorf("h1: by %s expires %s, want key dhcp, never", r.By, r.Expires)
	}
	if ro.Registered("gone."+apex) || ro.Registered("www."+apex) {
		t.Error("a deleted registration or a manual name is Registered")
	}
	if ptr := ro.PTR("4.0.1.10.in-addr.arpa."); len(ptr) != 1 {
		t.Errorf("PTR of vm's address: %v", ptr)
	}
	if res := ro.Update(msg(t, "up vm9 0 IN A 10.1.0.9"), Client(mustAddr("10.1.0.9"))); res.Rcode != dns.RcodeServerFailure {
		t.Errorf("an update of a read-only Registry: %s", dns.RcodeToString[res.Rcode])
	}
	if after, _ := os.ReadFile(journal); string(after) != string(before) {
		t.Error("reading changed the journal (compacted it, or cut its tail)")
	}
	// The writer goes on, and a new read sees it.
	w.update(vm2, dns.RcodeSuccess, "up vm2 0 IN A 10.1.0.5")
	if !w.readOnly().Registered("vm2." + apex) {
		t.Error("a read after a new update does not see it")
	}
}
