package registration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// When the journal's files are removed or replaced under a running
// Registry, an update writes them again from the registrations it holds
// before it is acknowledged; while that cannot be done (a folder in the
// journal's place) updates are SERVFAIL and change nothing.
func TestJournalFilesRemovedAreWrittenAgainFromTheRegistrations(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	journals := filepath.Join(w.dir, "journals")
	if err := os.RemoveAll(journals); err != nil {
		t.Fatal(err)
	}
	w.update(vm2, dns.RcodeSuccess, "up vm2 0 IN A 10.1.0.5")
	if !strings.Contains(w.log.String(), "writing them again") {
		t.Errorf("no log line: %s", w.log.String())
	}
	journal := filepath.Join(journals, "corp.example%2E.journal")
	os.Remove(journal)
	os.Mkdir(journal, 0o700)
	serial := w.serial()
	w.update(dhcp, dns.RcodeServerFailure, "up h1 0 IN A 10.2.0.1")
	if w.serial() != serial || w.reg.Registered("h1."+apex) {
		t.Fatal("an update that could not be journaled was applied")
	}
	os.Remove(journal)
	w.update(dhcp, dns.RcodeSuccess, "up h1 0 IN A 10.2.0.1")
	w.restart()
	for _, name := range []string{"vm", "vm2", "h1"} {
		if !w.reg.Registered(name + "." + apex) {
			t.Errorf("%s lost across the restart", name)
		}
	}
	if w.serial() != serial+1 {
		t.Errorf("serial %d after a restart, want %d", w.serial(), serial+1)
	}
}
