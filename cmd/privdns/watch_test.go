package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/config"
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

// watchNow starts srv's file watcher until the test ends, and returns
// once the watcher has had its first look at the files.
func watchNow(t *testing.T, srv *server) {
	t.Helper()
	srv.checked = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := srv.watch(ctx); err != nil {
		t.Fatal(err)
	}
	<-srv.checked
}

// versionAt returns the reloadConfig version the server at addr answers
// with (-1 when it does not answer).
func versionAt(addr string) func() int {
	return func() int {
		m, err := askErr("udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)
		if err != nil {
			return -1
		}
		n, _ := answerVersion(m)
		return n
	}
}

// every runs f every d until the test ends.
func every(t *testing.T, d time.Duration, f func()) {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(d):
				f()
			}
		}
	}()
}

func TestWatcherReloadsOnRenameAndZoneFileChanges(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	addr := f.srv.addrs()[0]
	watchNow(t, f.srv)
	current := versionAt(addr)

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
	watchNow(t, f.srv)
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
	maxSettle = time.Hour // the filter alone must let the reload through
	defer func() { maxSettle = 2 * time.Second }()
	watchNow(t, f.srv)
	// A log next to the configuration, written every 20 ms.
	noise, err := os.Create(filepath.Join(f.dir, "queries.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer noise.Close()
	every(t, 20*time.Millisecond, func() { noise.WriteString("a query\n") })
	f.writeVersion(t, 7, `{address: "127.0.0.1:0"}`)
	current := versionAt(f.srv.addrs()[0])
	eventually(t, "version 7 while another file keeps changing", func() bool { return current() == 7 })
}

func TestAFileOfOursTouchedAllTheTimeStillReloadsWithinTheCap(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	watchNow(t, f.srv)
	every(t, 30*time.Millisecond, func() { // an event on the configuration file itself
		now := time.Now()
		os.Chtimes(f.file, now, now)
	})
	f.writeVersion(t, 8, `{address: "127.0.0.1:0"}`)
	current := versionAt(f.srv.addrs()[0])
	eventually(t, "version 8 while the file keeps being touched", func() bool { return current() == 8 })
}

// oneZoneFileConfig serves z.example from file on addr to 127.0.0.0/8.
func oneZoneFileConfig(addr, file string) string {
	return `
server: { listeners: [{address: "` + addr + `"}], http: "" }
upstreams: { servers: ["192.0.2.1"] }
networks: [{ name: n, addressPrefixes: ["127.0.0.0/8"] }]
zones: [{ name: z.example, file: ` + file + `, links: [{ name: l, network: n }] }]
`
}

func TestWatcherFollowsAZoneFolderSwappedOrMadeAnew(t *testing.T) {
	// The zones live in zones/, first a symlink to zones.v1; then the
	// link is swapped to zones.v2; then zones/ is a new real folder; then
	// the zone file is a symlink into yet another folder, edited there.
	// zones/ is next to the configuration, or beside its folder.
	for _, beside := range []bool{false, true} {
		t.Run(fmt.Sprintf("beside %v", beside), func(t *testing.T) { testZoneFolderSwaps(t, beside) })
	}
}

func testZoneFolderSwaps(t *testing.T, beside bool) {
	dir, confDir, zonesRef := t.TempDir(), "", "zones/z.zone"
	confDir = dir
	if beside {
		confDir, zonesRef = filepath.Join(dir, "conf"), "../zones/z.zone"
		if err := os.Mkdir(confDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := freePort(t)
	zone := func(folder, ip string) {
		if err := os.MkdirAll(filepath.Join(dir, folder), 0o755); err != nil {
			t.Fatal(err)
		}
		writeAtomic(t, filepath.Join(dir, folder, "z.zone"), "$ORIGIN z.example.\nwww 60 IN A "+ip+"\n")
	}
	zone("zones.v1", "10.0.0.1")
	if err := os.Symlink("zones.v1", filepath.Join(dir, "zones")); err != nil {
		t.Fatal(err)
	}
	srv := serveText(t, confDir, oneZoneFileConfig(addr, zonesRef))
	watchNow(t, srv)
	answers := func(ip string) func() bool {
		return func() bool {
			m, err := askErr("udp", "127.0.0.1", addr, "www.z.example", dns.TypeA, true)
			return err == nil && len(m.Answer) == 1 && m.Answer[0].(*dns.A).A.String() == ip
		}
	}
	zone("zones.v2", "10.0.0.2")
	tmp := filepath.Join(dir, "zones.tmp")
	if err := os.Symlink("zones.v2", tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "zones")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the zone of the swapped folder", answers("10.0.0.2"))
	// An edit in the new folder is seen: the watch followed the swap.
	zone("zones.v2", "10.0.0.3")
	eventually(t, "an edit in the swapped-in folder", answers("10.0.0.3"))
	// The folder removed and made anew.
	if err := os.Remove(filepath.Join(dir, "zones")); err != nil {
		t.Fatal(err)
	}
	zone("zones", "10.0.0.4")
	eventually(t, "the zone of the folder made anew", answers("10.0.0.4"))
	zone("zones", "10.0.0.5")
	eventually(t, "an edit in the folder made anew", answers("10.0.0.5"))
	// The zone file a symlink into another folder, edited in place there.
	zone("elsewhere", "10.0.0.6")
	tmp = filepath.Join(dir, "zones", "z.tmp")
	if err := os.Symlink(filepath.Join(dir, "elsewhere", "z.zone"), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "zones", "z.zone")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the zone through its symlink", answers("10.0.0.6"))
	if err := os.WriteFile(filepath.Join(dir, "elsewhere", "z.zone"), []byte("$ORIGIN z.example.\nwww 60 IN A 10.0.0.7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an in-place edit of the symlink's target", answers("10.0.0.7"))
}

func TestWatcherSeesAKubernetesDataSwap(t *testing.T) {
	// As the kubelet writes a ConfigMap: privdns.yaml and the zone are
	// links through ..data, a link to a timestamped folder; an update
	// makes a new folder and renames a new ..data link over the old.
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`) // version 0 in f.dir
	addr := f.srv.addrs()[0]
	k8s := t.TempDir()
	version := func(n int) string {
		d := filepath.Join(k8s, fmt.Sprintf("..2026_11_27_%d", n))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		v := &reloadFixture{dir: d, file: filepath.Join(d, "privdns.yaml")}
		v.writeVersion(t, n, `{address: "`+addr+`"}`)
		return filepath.Base(d)
	}
	if err := os.Symlink(version(1), filepath.Join(k8s, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"privdns.yaml", "one.zone", "two.zone"} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(k8s, name)); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(k8s, "privdns.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Close()
	srv, err := startServer(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	maxSettle = time.Hour // only the ..data events can bring the reload
	defer func() { maxSettle = 2 * time.Second }()
	watchNow(t, srv)
	current := versionAt(addr)
	if current() != 1 {
		t.Fatalf("version %d before the swap, want 1", current())
	}
	tmp := filepath.Join(k8s, "..data_tmp")
	if err := os.Symlink(version(2), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(k8s, "..data")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "version 2 after the ..data swap", func() bool { return current() == 2 })
}

func TestAnIdleWatcherOverASymlinkedFolderStaysIdle(t *testing.T) {
	// zones -> v1: the folder is watched once, under one name, and
	// nothing is read again while nothing changes.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, filepath.Join(dir, "v1", "z.zone"), "$ORIGIN z.example.\nwww 60 IN A 10.0.0.1\n")
	if err := os.Symlink("v1", filepath.Join(dir, "zones")); err != nil {
		t.Fatal(err)
	}
	srv := serveText(t, dir, oneZoneFileConfig(freePort(t), "zones/z.zone"))
	watchNow(t, srv)
	select {
	case <-srv.checked:
		t.Fatal("the watcher looked at the files again with nothing changed")
	case <-time.After(5 * settle):
	}
}
