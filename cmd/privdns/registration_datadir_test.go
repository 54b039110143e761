package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
)

// regJournal is the journal of corp.example in a test's dataDir.
func regJournal(dir string) string {
	return filepath.Join(dir, "data", "journals", "corp.example%2E.journal")
}

// wantRegistered fails t unless name answers addr (NXDOMAIN for "") to a
// client of the registration network.
func wantRegistered(t *testing.T, addr, name, want string) {
	t.Helper()
	m := ask(t, "udp", "127.0.0.7", addr, name, dns.TypeA, false)
	switch {
	case want == "" && m.Rcode != dns.RcodeNameError:
		t.Errorf("%s: %s %v, want NXDOMAIN", name, dns.RcodeToString[m.Rcode], m.Answer)
	case want != "" && (m.Rcode != dns.RcodeSuccess || lastA(m) != want):
		t.Errorf("%s: %s %v, want %s", name, dns.RcodeToString[m.Rcode], m.Answer, want)
	}
}

// A journal file replaced under the running server (removed, a folder
// put in its place) holds no update the server acknowledges: updates are
// SERVFAIL while queries, of registered names too, are answered; once the
// folder is gone the server writes its journal again from the
// registrations it holds (those only in the replaced file included), and
// updates work; a restart serves every acknowledged one.
func TestAJournalReplacedUnderTheServerIsServfailUntilFixed(t *testing.T) {
	dir := t.TempDir()
	var log resolvertest.LogBuffer
	srv := serveTextLog(t, dir, registrationConfig, slog.New(slog.NewTextHandler(&log, nil)))
	addr := srv.addrs()[0]
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeSuccess, addA("vm5.corp.example", "127.0.0.5"))
	mustUpdate(t, "127.0.1.1", addr, true, dns.RcodeSuccess, addA("lease1.corp.example", "10.9.9.9"))

	journal := regJournal(dir)
	if err := os.Remove(journal); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(journal, 0o700); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, "127.0.0.6", addr, false, dns.RcodeServerFailure, addA("vm6.corp.example", "127.0.0.6"))
	mustUpdate(t, "127.0.1.1", addr, true, dns.RcodeServerFailure, addA("lease2.corp.example", "10.9.9.10"))
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeServerFailure, delA("vm5.corp.example"))
	wantRegistered(t, addr, "vm5.corp.example", "127.0.0.5")
	wantRegistered(t, addr, "lease1.corp.example", "10.9.9.9")
	wantRegistered(t, addr, "vm6.corp.example", "")
	wantRegistered(t, addr, "manual.corp.example", "10.0.0.9")
	if !strings.Contains(log.String(), "journal append failed, update not applied") {
		t.Errorf("no log line for the failed appends:\n%s", log.String())
	}

	if err := os.Remove(journal); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, "127.0.0.6", addr, false, dns.RcodeSuccess, addA("vm6.corp.example", "127.0.0.6"))
	mustUpdate(t, "127.0.0.7", addr, false, dns.RcodeSuccess, addA("vm7.corp.example", "127.0.0.7"))
	if info, err := os.Stat(journal); err != nil || !info.Mode().IsRegular() {
		t.Fatalf("the journal was not written again: %v %v", info, err)
	}

	// The journals folder removed altogether: the next update writes
	// the journal and its snapshot again, from what the server holds.
	if err := os.RemoveAll(filepath.Dir(journal)); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, "127.0.0.8", addr, false, dns.RcodeSuccess, addA("vm8.corp.example", "127.0.0.8"))

	srv.Close()
	srv = serveTextLog(t, dir, registrationConfig, slog.New(slog.DiscardHandler))
	addr = srv.addrs()[0]
	for name, want := range map[string]string{
		"vm5.corp.example": "127.0.0.5", "lease1.corp.example": "10.9.9.9", "vm6.corp.example": "127.0.0.6",
		"vm7.corp.example": "127.0.0.7", "vm8.corp.example": "127.0.0.8", "lease2.corp.example": "",
	} {
		wantRegistered(t, addr, name, want)
	}
}

// A journal torn by a crash in the middle of a record (here: cut while
// the server is stopped) is cut at its last whole record when the server
// starts, with a log line; the registrations before it are served and
// updates go on.
func TestATornJournalTailIsCutAtStart(t *testing.T) {
	dir := t.TempDir()
	srv := serveTextLog(t, dir, registrationConfig, slog.New(slog.DiscardHandler))
	addr := srv.addrs()[0]
	for i := 1; i <= 3; i++ {
		mustUpdate(t, fmt.Sprintf("127.0.0.%d", 10+i), addr, false, dns.RcodeSuccess, addA(fmt.Sprintf("vm%d.corp.example", i), fmt.Sprintf("127.0.0.%d", 10+i)))
	}
	srv.Close()
	journal := regJournal(dir)
	data, err := os.ReadFile(journal)
	if err != nil || len(data) < 20 {
		t.Fatalf("journal %d bytes, %v: the updates were compacted away, nothing to tear", len(data), err)
	}
	if err := os.WriteFile(journal, data[:len(data)-9], 0o600); err != nil { // vm3's record, torn
		t.Fatal(err)
	}

	var log resolvertest.LogBuffer
	srv = serveTextLog(t, dir, registrationConfig, slog.New(slog.NewTextHandler(&log, nil)))
	addr = srv.addrs()[0]
	if !strings.Contains(log.String(), "datadir: journal torn tail cut") || !strings.Contains(log.String(), journal) {
		t.Errorf("no log line naming the journal's torn tail:\n%s", log.String())
	}
	wantRegistered(t, addr, "vm1.corp.example", "127.0.0.11")
	wantRegistered(t, addr, "vm2.corp.example", "127.0.0.12")
	wantRegistered(t, addr, "vm3.corp.example", "")
	mustUpdate(t, "127.0.0.13", addr, false, dns.RcodeSuccess, addA("vm3.corp.example", "127.0.0.13"))
	srv.Close()
	srv = serveTextLog(t, dir, registrationConfig, slog.New(slog.DiscardHandler))
	wantRegistered(t, srv.addrs()[0], "vm3.corp.example", "127.0.0.13")
}
