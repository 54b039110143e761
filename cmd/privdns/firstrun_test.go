package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/testdata/example"
)

// exampleDir is the example's folder, from this package.
var exampleDir = filepath.Join("..", "..", "testdata", "example")

func TestTheBuiltInExampleIsTheExampleFolder(t *testing.T) {
	var onDisk, embedded []string
	filepath.WalkDir(exampleDir, func(path string, e fs.DirEntry, err error) error { //nolint:errcheck // a walk error fails below
		if err == nil && !e.IsDir() && filepath.Ext(path) != ".go" {
			rel, _ := filepath.Rel(exampleDir, path)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return err
	})
	fs.WalkDir(example.Files, ".", func(path string, e fs.DirEntry, err error) error { //nolint:errcheck // as above
		if err == nil && !e.IsDir() {
			embedded = append(embedded, path)
			want, _ := os.ReadFile(filepath.Join(exampleDir, path))
			if got, _ := example.Files.ReadFile(path); !bytes.Equal(got, want) {
				t.Errorf("%s differs from the file on disk", path)
			}
		}
		return err
	})
	if len(onDisk) < 6 || !slices.Equal(onDisk, embedded) {
		t.Errorf("embedded %v, folder holds %v", embedded, onDisk)
	}
}

func TestTheExampleListensOn1053Not5353(t *testing.T) {
	cfg, err := config.Load(filepath.Join(exampleDir, "privdns.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Server.Listeners[0].Address; got != "127.0.0.1:1053" {
		t.Errorf("example listens on %s, want 127.0.0.1:1053", got)
	}
	if got := def.Server.Listeners[0].Address; got != "127.0.0.1:1053" {
		t.Errorf("embedded default listens on %s, want 127.0.0.1:1053", got)
	}
}

func TestDemoRunsTheBuiltInExampleFromAnyFolderAndListsItsListeners(t *testing.T) {
	t.Chdir(t.TempDir()) // no testdata here
	d, err := startDemo(demoOptions{Level: "error", ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := d.dir
	var out bytes.Buffer
	d.listening(&out)
	d.tour(&out)
	addrs := d.server.addrs()
	httpAddr := d.server.httpAddr()
	for _, want := range []string{
		"serving the built-in example",
		fmt.Sprintf("DNS (UDP, TCP)         %s  network by source address", addrs[0]),
		fmt.Sprintf("DNS (UDP, TCP)         %s  every query as vnet-alice", addrs[1]),
		fmt.Sprintf("HTTP                   %s  /metrics /healthz /readyz", httpAddr),
		"fake public internet   " + d.public.Addr,
		"fake on-premises DNS   " + d.onprem.Addr,
		"-b 127.0.0.2 fabrikam.blob.core.windows.net A\n  → NOERROR | CNAME fabrikam.privatelink.blob.core.windows.net. | CNAME blob.am5prdstr12a.store.core.windows.net. | A 20.60.222.33",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	// The example's HTTP listener is kept.
	if httpAddr == "" {
		t.Fatal("the demo dropped the example's HTTP listener")
	}
	if code, body := httpGet(t, "http://"+httpAddr+"/metrics"); code != 200 || !strings.Contains(body, "privdns_build_info") {
		t.Errorf("/metrics: %d", code)
	}
	d.Close()
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the copy of the built-in example %s is still there after Close (%v)", dir, err)
	}
}

func TestDemoListenReplacesTheExampleListeners(t *testing.T) {
	addr := freePort(t)
	d, err := startDemo(demoOptions{Listen: []string{addr}, Level: "error", ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.server.addrs(); !slices.Equal(got, []string{addr}) {
		t.Errorf("listeners %v, want just %s", got, addr)
	}
	var out bytes.Buffer
	d.tour(&out)
	host, port, _ := net.SplitHostPort(addr)
	if !strings.Contains(out.String(), fmt.Sprintf("dig @%s -p %s fabrikam.blob.core.windows.net A\n  → NXDOMAIN", host, port)) {
		t.Errorf("the tour does not ask the --listen address:\n%s", out.String())
	}
}

// busyPort holds a UDP port on loopback until the test ends.
func busyPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

func TestABindFailureNamesTheAddressAndTheFlag(t *testing.T) {
	busy := busyPort(t)
	want := fmt.Sprintf("cannot listen on %s (listener): the address is already in use by another program; pick another address with --listen, e.g. --listen %s", busy, otherPort(busy))

	_, err := startDemo(demoOptions{Listen: []string{busy}, Level: "error", ephemeral: true})
	if err == nil || withBindHint(err).Error() != want {
		t.Errorf("demo: %v\nwant %s", withBindHint(err), want)
	}

	file := filepath.Join(writeFiles(t, map[string]string{"privdns.yaml": "server: {http: ''}\nupstreams: {servers: [192.0.2.1]}\n"}), "privdns.yaml")
	_, errOut, code := run(t, "serve", "--config", file, "--listen", busy)
	if code != 1 || !strings.Contains(errOut, strings.ReplaceAll(want, `"`, `\"`)) {
		t.Errorf("serve: exit %d\n%s\nwant the log to hold %s", code, errOut, want)
	}
	if _, errOut, code := run(t, "serve", "--config", file, "--listen", "localhost:53"); code != 1 || !strings.Contains(errOut, `--listen localhost:53: "localhost:53": "localhost" is not an IP address`) {
		t.Errorf("serve --listen localhost:53: exit %d, %s", code, errOut)
	}
}

func TestBindReasons(t *testing.T) {
	for addr, want := range map[string]string{"127.0.0.1:1053": "127.0.0.1:10053", "[::1]:53": "[::1]:9053", "127.0.0.1:60000": "127.0.0.1:10053", ":53": ":9053"} {
		if got := otherPort(addr); got != want {
			t.Errorf("otherPort(%s) = %s, want %s", addr, got, want)
		}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{syscall.EACCES, "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"},
		{syscall.EADDRNOTAVAIL, "no interface of this host has that address"},
		{errors.New("odd"), "listen udp: odd"},
	} {
		if got := bindReason(fmt.Errorf("listen udp: %w", c.err)); got != c.want {
			t.Errorf("%v: %q, want %q", c.err, got, c.want)
		}
	}
	mdns := withBindHint(&bindError{what: "listener", addr: "127.0.0.1:5353", err: syscall.EADDRINUSE}).Error()
	if !strings.Contains(mdns, "--listen 127.0.0.1:14353 (5353 is mDNS's port") {
		t.Errorf("5353: %s", mdns)
	}
	http := withBindHint(&bindError{what: "server.http", addr: "127.0.0.1:9153", err: syscall.EADDRINUSE}).Error()
	if !strings.HasPrefix(http, "cannot listen on 127.0.0.1:9153 (server.http)") || !strings.Contains(http, "PRIVDNS_SERVER_HTTP") {
		t.Errorf("server.http: %s", http)
	}
}

func TestServeListenHoldsAcrossReloads(t *testing.T) {
	addr, other := freePort(t), freePort(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "privdns.yaml")
	text := func(ip string) string {
		return fmt.Sprintf("server: {http: '', listeners: [{address: %q}]}\nupstreams: {servers: [192.0.2.1]}\nnetworks: [{name: n, addressPrefixes: [127.0.0.0/8]}]\nzones: [{name: corp.example, records: ['www 60 IN A %s'], links: [{name: l, network: n}]}]\n", other, ip)
	}
	writeAtomic(t, file, text("10.0.0.1"))
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.OverrideListeners([]string{addr}); err != nil {
		t.Fatal(err)
	}
	srv, err := start(cfg, serverOptions{Log: slog.New(slog.DiscardHandler), Listen: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	writeAtomic(t, file, text("10.0.0.2"))
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if got := srv.addrs(); !slices.Equal(got, []string{addr}) {
		t.Errorf("after a reload the listeners are %v, want the --listen %s", got, addr)
	}
	if m := ask(t, "udp", "127.0.0.1", addr, "www.corp.example", dns.TypeA, true); lastA(m) != "10.0.0.2" {
		t.Errorf("the reloaded zone through the --listen address: %v", m)
	}
}
