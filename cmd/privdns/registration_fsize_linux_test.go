package main

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// A dataDir that stops taking writes (the server's file size limit
// lowered to 0, as a full disk would: it works as root too, where
// permissions do not) makes updates SERVFAIL, with a log line, while
// queries, of names registered before too, are answered; once it takes
// writes again updates work, and a restart serves exactly the
// acknowledged ones.
func TestUpdatesAreServfailWhileTheDataDirTakesNoWrites(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	p, out := startRegProcess(t, dir, addr)
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeSuccess, addA("vm5.corp.example", "127.0.0.5"))
	mustUpdate(t, "127.0.1.1", addr, true, dns.RcodeSuccess, addA("lease1.corp.example", "10.9.9.9"))

	pid := p.Process.Pid
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, nil, &old); err != nil {
		t.Fatal(err)
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 0, Max: old.Max}, nil); err != nil {
		t.Fatalf("lowering the server's file size limit: %v", err)
	}
	mustUpdate(t, "127.0.0.6", addr, false, dns.RcodeServerFailure, addA("vm6.corp.example", "127.0.0.6"))
	mustUpdate(t, "127.0.1.1", addr, true, dns.RcodeServerFailure, addA("lease2.corp.example", "10.9.9.10"))
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeServerFailure, delA("vm5.corp.example"))
	for _, proto := range []string{"udp", "tcp"} {
		for name, want := range map[string]string{"vm5.corp.example": "127.0.0.5", "lease1.corp.example": "10.9.9.9", "manual.corp.example": "10.0.0.9"} {
			if m := ask(t, proto, "127.0.0.7", addr, name, dns.TypeA, false); lastA(m) != want {
				t.Errorf("%s over %s while the dataDir takes no writes: %v, want %s", name, proto, m.Answer, want)
			}
		}
	}
	wantRegistered(t, addr, "vm6.corp.example", "")
	if s := out.String(); !strings.Contains(s, "journal append failed, update not applied") || !strings.Contains(s, "file too large") {
		t.Errorf("no log line naming the failed append:\n%s", s)
	}

	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &old, nil); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, "127.0.0.6", addr, false, dns.RcodeSuccess, addA("vm6.corp.example", "127.0.0.6"))
	mustUpdate(t, "127.0.0.5", addr, false, dns.RcodeSuccess, delA("vm5.corp.example"))

	sigkill(p)
	startRegProcess(t, dir, addr)
	for name, want := range map[string]string{"vm5.corp.example": "", "vm6.corp.example": "127.0.0.6", "lease1.corp.example": "10.9.9.9", "lease2.corp.example": ""} {
		wantRegistered(t, addr, name, want)
	}
}
