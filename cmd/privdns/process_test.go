package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
)

// TestMain lets the tests run this binary as privdns itself: with
// PRIVDNS_TEST_RUN_MAIN=1 it is the command, not the tests.
func TestMain(m *testing.M) {
	if os.Getenv("PRIVDNS_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// privdnsProcess starts privdns as its own process with args.
func privdnsProcess(t *testing.T, dir string, args ...string) (*exec.Cmd, *lockedOutput) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PRIVDNS_TEST_RUN_MAIN=1")
	out := &lockedOutput{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, out
}

func TestServeProcessAnswersReloadsOnSIGHUPAndStopsOnSIGTERM(t *testing.T) {
	public := resolvertest.New(t, resolvertest.MustPublic("www.example.com. 60 IN A 192.0.2.1"))
	addr := freePort(t)
	dir := t.TempDir()
	conf := func(ip string) string {
		return fmt.Sprintf(`server:
  listeners: [{address: %q}]
  http: ""
upstreams: {servers: [%q]}
networks: [{name: n, addressPrefixes: ["127.0.0.0/8"]}]
zones:
  - name: corp.example
    records: ["www 60 IN A %s"]
    links: [{name: l, network: n}]
`, addr, public.Addr, ip)
	}
	file := filepath.Join(dir, "privdns.yaml")
	writeAtomic(t, file, conf("10.0.0.1"))
	cmd, out := privdnsProcess(t, dir, "serve", "--config", file)
	answer := func() string {
		m, err := askErr("udp", "127.0.0.1", addr, "www.corp.example", dns.TypeA, true)
		if err != nil || len(m.Answer) != 1 {
			return ""
		}
		return m.Answer[0].(*dns.A).A.String()
	}
	eventually(t, "privdns to answer", func() bool { return answer() == "10.0.0.1" })
	if m := ask(t, "tcp", "127.0.0.1", addr, "www.example.com", dns.TypeA, true); lastA(m) != "192.0.2.1" {
		t.Errorf("public name over TCP: %v", m)
	}

	// serve also watches the file; SIGHUP reloads at once either way.
	writeAtomic(t, file, conf("10.0.0.2"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for answer() != "10.0.0.2" {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the reload; privdns said:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, out)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("privdns did not stop after SIGTERM\n%s", out)
	}
	for _, want := range []string{"listening", "configuration loaded", "configuration reloaded\" trigger=SIGHUP", "shutting down"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckProcessExitCodes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"good.yaml": "upstreams: {servers: [192.0.2.1]}\nnetworks: [{name: n, addressPrefixes: [10.0.0.0/8]}]\n",
		"bad.yaml":  "upstreams: {servers: [192.0.2.1]}\nnetworks: [{name: n, addressPrefixes: [10.0.0.0/8]}]\nzones: [{name: z.example, links: [{name: l, network: nope}]}]\n",
	})
	for file, want := range map[string]int{"good.yaml": 0, "bad.yaml": 1} {
		cmd := exec.Command(os.Args[0], "check", "--config", filepath.Join(dir, file))
		cmd.Env = append(os.Environ(), "PRIVDNS_TEST_RUN_MAIN=1")
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != want {
			t.Errorf("check %s: exit %d, want %d\n%s", file, code, want, out)
		}
	}
}

// lockedOutput collects a process's output for reading while it runs.
type lockedOutput struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (o *lockedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *lockedOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func TestServeLogsStartupWarningsInTheLogFormat(t *testing.T) {
	addr := freePort(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "privdns.yaml")
	writeAtomic(t, file, fmt.Sprintf(`server:
  listeners: [{address: %q}]
  http: ""
  log: {format: json}
upstreams: {servers: ["127.0.0.1:9"]}
networks: [{name: n, addressPrefixes: ["127.0.0.0/8"]}]
zones:
  - name: corp.example
    records: ["www 60 IN A 10.0.0.1"]
    links: [{name: l, network: n, resolutionPolicy: NxDomainRedirect}]
`, addr))
	_, out := privdnsProcess(t, dir, "serve", "--config", file)
	eventually(t, "privdns to answer", func() bool {
		m, err := askErr("udp", "127.0.0.1", addr, "www.corp.example", dns.TypeA, true)
		return err == nil && len(m.Answer) == 1
	})
	warned := false
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a line that is not JSON in a JSON log: %q", line)
		}
		if rec["msg"] == "configuration warning" && strings.Contains(fmt.Sprint(rec["warning"]), "NxDomainRedirect on zone corp.example.") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no JSON configuration warning about NxDomainRedirect:\n%s", out)
	}
}

func TestSIGTERMWithQueriesOutlastingTheGraceStillExitsZero(t *testing.T) {
	up, heard := silentUpstream(t)
	addr := freePort(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "privdns.yaml")
	writeAtomic(t, file, fmt.Sprintf(twoListenerConfig, fmt.Sprintf("{address: %q}", addr), up))
	cmd, out := privdnsProcess(t, dir, "serve", "--config", file)
	eventually(t, "privdns to answer", func() bool {
		m, err := askErr("udp", "127.0.0.1", addr, "www.corp.example", dns.TypeA, true)
		return err == nil && len(m.Answer) == 1
	})
	go askErr("udp", "127.0.0.1", addr, "slow.example.com", dns.TypeA, true) // 10 s upstream timeout
	<-heard                                                                  // in flight: privdns asked the upstream
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM with a query still in flight: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "queries still in flight after 5 s were dropped") {
		t.Errorf("no warning about the dropped query:\n%s", out)
	}
}
