package main

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// eventually polls cond until it holds or the deadline passes: the file
// watcher reacts to the kernel's events, which no test clock controls.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWatcherReloadsOnRenameAndZoneFileChanges(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	addr := f.srv.addrs()[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := f.srv.watch(ctx); err != nil {
		t.Fatal(err)
	}
	current := func() int {
		m, err := askErr("udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)
		if err != nil {
			return -1
		}
		n, _ := answerVersion(m)
		return n
	}

	// An editor's write-and-rename of the configuration and its zones.
	f.writeVersion(t, 5, `{address: "127.0.0.1:0"}`)
	eventually(t, "version 5 after rename-writes", func() bool { return current() == 5 })

	// A zone file changed in place, the configuration untouched.
	zone := filepath.Join(f.dir, "two.zone")
	if err := os.WriteFile(zone, []byte("$ORIGIN two.example.\nv5 60 IN A 10.0.0.99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the in-place zone edit", func() bool {
		m, err := askErr("udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)
		return err == nil && len(m.Answer) == 2 && m.Answer[1].(*dns.A).A.String() == "10.0.0.99"
	})

	// A broken edit is counted as a failure and the old data keeps serving.
	failures := reloads(t, f.srv, "failure")
	writeAtomic(t, f.file, "networks: [\n")
	eventually(t, "the failed reload", func() bool { return reloads(t, f.srv, "failure") == failures+1 })
	if m := ask(t, "udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true); len(m.Answer) != 2 {
		t.Fatalf("after a broken edit: %v", m)
	}
	// Kubernetes-style: the file is a symlink whose target is swapped.
	data := filepath.Join(f.dir, "..data-1")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	f2 := &reloadFixture{dir: data, file: filepath.Join(data, "privdns.yaml")}
	f2.writeVersion(t, 6, `{address: "127.0.0.1:0"}`)
	// The config refers to one.zone/two.zone next to itself: the link's folder.
	for _, name := range []string{"one.zone", "two.zone"} {
		os.Remove(filepath.Join(f.dir, name))
		if err := os.Symlink(filepath.Join(data, name), filepath.Join(f.dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	tmp := f.file + ".link"
	if err := os.Symlink(f2.file, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, f.file); err != nil {
		t.Fatal(err)
	}
	eventually(t, "version 6 through swapped symlinks", func() bool { return current() == 6 })
}

func TestSIGHUPReloads(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- f.srv.run(ctx, hup) }()
	before := reloads(t, f.srv, "success")
	f.writeVersion(t, 3, `{address: "127.0.0.1:0"}`)
	hup <- syscall.SIGHUP
	eventually(t, "the SIGHUP reload", func() bool { return reloads(t, f.srv, "success") == before+1 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestWatcherPicksUpTheFixOfAZoneFileAddedBroken(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	addr := f.srv.addrs()[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := f.srv.watch(ctx); err != nil {
		t.Fatal(err)
	}
	// A new zone, in a folder nothing watched before, whose file is broken.
	if err := os.Mkdir(filepath.Join(f.dir, "more"), 0o755); err != nil {
		t.Fatal(err)
	}
	three := filepath.Join(f.dir, "more", "three.zone")
	writeAtomic(t, three, "$ORIGIN three.example.\nc 60 IN A not-an-address\n")
	failures := reloads(t, f.srv, "failure")
	text, err := os.ReadFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, f.file, string(text)+`  - name: three.example
    file: more/three.zone
    links: [{ name: a3, network: net-a }]
`)
	eventually(t, "the failed reload", func() bool { return reloads(t, f.srv, "failure") == failures+1 })
	// Fixing only the zone file is enough.
	writeAtomic(t, three, "$ORIGIN three.example.\nc 60 IN A 10.3.3.3\n")
	eventually(t, "the fixed zone", func() bool {
		m, err := askErr("udp", "127.0.1.7", addr, "c.three.example", dns.TypeA, true)
		return err == nil && len(m.Answer) == 1
	})
}

func TestOtherFilesWrittenAllTheTimeDoNotHoldAReloadBack(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	addr := f.srv.addrs()[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := f.srv.watch(ctx); err != nil {
		t.Fatal(err)
	}
	// A log next to the configuration, written every 20 ms.
	noise, err := os.Create(filepath.Join(f.dir, "queries.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer noise.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				noise.WriteString("a query\n")
			}
		}
	}()
	f.writeVersion(t, 7, `{address: "127.0.0.1:0"}`)
	eventually(t, "version 7 while another file keeps changing", func() bool {
		m, err := askErr("udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)
		if err != nil {
			return false
		}
		n, _ := answerVersion(m)
		return n == 7
	})
}

func TestAFileOfOursTouchedAllTheTimeStillReloadsWithinTheCap(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	addr := f.srv.addrs()[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := f.srv.watch(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // every 30 ms, an event on the configuration file itself
		for {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Millisecond):
				now := time.Now()
				os.Chtimes(f.file, now, now)
			}
		}
	}()
	f.writeVersion(t, 8, `{address: "127.0.0.1:0"}`)
	eventually(t, "version 8 while the file keeps being touched", func() bool {
		m, err := askErr("udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)
		if err != nil {
			return false
		}
		n, _ := answerVersion(m)
		return n == 8
	})
}
