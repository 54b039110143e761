package main

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// reloadConfig is a configuration whose answers say which version of it
// produced them: one.example's v is a CNAME to v<N>.two.example, which
// only version N's two.example holds. An answer mixing two versions is an
// NXDOMAIN, never a silent mixture.
const reloadConfig = `
server:
  listeners: [%s]
  http: ""
upstreams: { servers: ["127.0.0.1:9"] }
networks:
  - { name: net-a, addressPrefixes: ["127.0.1.0/24"] }
  - { name: net-b, addressPrefixes: ["127.0.2.0/24"] }
zones:
  - name: one.example
    file: one.zone
    links: [{ name: a1, network: net-a }, { name: b1, network: net-b }]
  - name: two.example
    file: two.zone
    links: [{ name: a2, network: net-a }, { name: b2, network: net-b }]
`

type reloadFixture struct {
	dir  string
	file string
	srv  *server
}

// writeAtomic writes like careful editors and Kubernetes do: a new file
// renamed over the old one.
func writeAtomic(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func (f *reloadFixture) writeVersion(t *testing.T, n int, listeners string) {
	t.Helper()
	writeAtomic(t, filepath.Join(f.dir, "one.zone"), fmt.Sprintf("$ORIGIN one.example.\nv 60 IN CNAME v%d.two.example.\n", n))
	writeAtomic(t, filepath.Join(f.dir, "two.zone"), fmt.Sprintf("$ORIGIN two.example.\nv%d 60 IN A 10.0.%d.%d\n", n, n/256, n%256))
	writeAtomic(t, f.file, fmt.Sprintf(reloadConfig, listeners))
}

func startReloadFixture(t *testing.T, listeners string) *reloadFixture {
	t.Helper()
	f := &reloadFixture{dir: t.TempDir()}
	f.file = filepath.Join(f.dir, "privdns.yaml")
	f.writeVersion(t, 0, listeners)
	cfg, err := config.Load(f.file)
	if err != nil {
		t.Fatal(err)
	}
	if f.srv, err = startServer(cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.srv.Close() })
	return f
}

func reloads(t *testing.T, s *server, result string) float64 {
	t.Helper()
	n, err := testutil.GatherAndCount(s.reg, "privdns_config_reloads_total")
	if err != nil || n == 0 {
		t.Fatalf("reload counter not exported: %v", err)
	}
	mfs, _ := s.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "privdns_config_reloads_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// answerVersion reads which configuration version answered, or an error.
func answerVersion(m *dns.Msg) (int, error) {
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 {
		return 0, fmt.Errorf("rcode %s with %d answers", dns.RcodeToString[m.Rcode], len(m.Answer))
	}
	cname, ok1 := m.Answer[0].(*dns.CNAME)
	a, ok2 := m.Answer[1].(*dns.A)
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("answer %v", m.Answer)
	}
	var n int
	if _, err := fmt.Sscanf(cname.Target, "v%d.two.example.", &n); err != nil {
		return 0, err
	}
	if want := fmt.Sprintf("10.0.%d.%d", n/256, n%256); a.A.String() != want {
		return 0, fmt.Errorf("mixture: CNAME to version %d but A %s", n, a.A)
	}
	return n, nil
}

func TestReloadUnderLoadNeverMixesOrDrops(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	addr := f.srv.addrs()[0]
	var stop atomic.Bool
	var failures, answered atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for _, src := range []string{"127.0.1.7", "127.0.2.7"} {
		for _, proto := range []string{"udp", "tcp"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				last := -1
				for !stop.Load() {
					m, err := askErr(proto, src, addr, "v.one.example", dns.TypeA, true)
					var n int
					if err == nil {
						n, err = answerVersion(m)
					}
					if err == nil && n < last {
						err = fmt.Errorf("went back from version %d to %d", last, n)
					}
					if err != nil {
						failures.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Sprintf("%s/%s: %v", proto, src, err))
						continue
					}
					last = n
					answered.Add(1)
				}
			}()
		}
	}
	good := 0
	for i := 1; i <= 100; i++ {
		if i%2 == 0 { // a bad edit: the running configuration must keep serving
			writeAtomic(t, f.file, "server: [this is not a mapping\n")
			if err := f.srv.Reload("test"); err == nil {
				t.Fatalf("edit %d: a broken file was accepted", i)
			}
			continue
		}
		f.writeVersion(t, i, `{address: "127.0.0.1:0"}`)
		if err := f.srv.Reload("test"); err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
		good++
	}
	stop.Store(true)
	wg.Wait()
	if failures.Load() != 0 {
		t.Errorf("%d failed or inconsistent answers (of %d); first: %v", failures.Load(), failures.Load()+answered.Load(), firstErr.Load())
	}
	if answered.Load() < 100 {
		t.Errorf("only %d answers during 100 reloads", answered.Load())
	}
	if got := reloads(t, f.srv, "success"); got != float64(good+1) {
		t.Errorf("reloads success = %v, want %d (start + good edits)", got, good+1)
	}
	if got := reloads(t, f.srv, "failure"); got != 50 {
		t.Errorf("reloads failure = %v, want 50", got)
	}
	m := ask(t, "udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)
	if n, err := answerVersion(m); err != nil || n != 99 {
		t.Errorf("after the edits: version %d (%v), want 99", n, err)
	}
	t.Logf("%d answers during 100 reloads", answered.Load())
}

func TestBadZoneFileEditKeepsServing(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	addr := f.srv.addrs()[0]
	writeAtomic(t, filepath.Join(f.dir, "two.zone"), "$ORIGIN two.example.\nv0 60 IN A not-an-address\n")
	err := f.srv.Reload("test")
	if err == nil || !strings.Contains(err.Error(), "two.zone:2") {
		t.Fatalf("reload error %v, want one naming two.zone:2", err)
	}
	if n, err := answerVersion(ask(t, "udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)); err != nil || n != 0 {
		t.Fatalf("after a bad zone edit: version %d (%v), want 0 still served", n, err)
	}
	f.writeVersion(t, 7, `{address: "127.0.0.1:0"}`)
	if err := f.srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if n, _ := answerVersion(ask(t, "tcp", "127.0.2.7", addr, "v.one.example", dns.TypeA, true)); n != 7 {
		t.Errorf("next good edit: version %d, want 7", n)
	}
}

// freePort returns a 127.0.0.1 address whose port is free for UDP and
// TCP on every address, so a test may also listen on ":port". The port is
// taken below the kernel's ephemeral range: a port the kernel hands out
// for ":0" may be handed to another test's socket (any package's, running
// at the same time) before the server binds it.
func freePort(t *testing.T) string {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 12000 {
				low = n
			}
		}
	}
	const base = 10000
	for range 200 {
		port := base + rand.IntN(low-base)
		if _, taken := handedOut.LoadOrStore(port, true); taken {
			continue
		}
		addr := net.JoinHostPort("", strconv.Itoa(port))
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		pc.Close()
		if err == nil {
			ln.Close()
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return ""
}

// handedOut holds the ports freePort returned, so that two tests never
// get the same one.
var handedOut sync.Map

func TestReloadChangesListeners(t *testing.T) {
	first, second := freePort(t), freePort(t)
	f := startReloadFixture(t, fmt.Sprintf("{address: %q}", first))
	// Add a second address bound to net-b: bound before the swap.
	f.writeVersion(t, 1, fmt.Sprintf("{address: %q}, {address: %q, network: net-b}", first, second))
	if err := f.srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	// From net-a's source, the net-b listener still answers (as net-b).
	if _, err := answerVersion(ask(t, "udp", "127.0.1.7", second, "v.one.example", dns.TypeA, true)); err != nil {
		t.Fatalf("new listener: %v", err)
	}
	// An address that cannot be bound fails the reload; the old listeners stay.
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	f.writeVersion(t, 2, fmt.Sprintf("{address: %q}, {address: %q}", first, busy.LocalAddr().String()))
	if err := f.srv.Reload("test"); err == nil {
		t.Fatal("reload with an address in use succeeded")
	}
	for _, a := range []string{first, second} {
		if n, err := answerVersion(ask(t, "udp", "127.0.1.7", a, "v.one.example", dns.TypeA, true)); err != nil || n != 1 {
			t.Errorf("%s after the failed reload: version %d (%v), want 1", a, n, err)
		}
	}
	// Removing the second listener closes it.
	f.writeVersion(t, 3, fmt.Sprintf("{address: %q}", first))
	if err := f.srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if n, _ := answerVersion(ask(t, "tcp", "127.0.1.7", first, "v.one.example", dns.TypeA, true)); n != 3 {
		t.Errorf("first listener: version %d, want 3", n)
	}
	if got := f.srv.addrs(); len(got) != 1 || got[0] != first {
		t.Errorf("listeners %v, want only %s", got, first)
	}
}

// silentUpstream is an upstream that takes queries and never answers; it
// notes on heard each query it takes.
func silentUpstream(t *testing.T) (addr string, heard <-chan struct{}) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	ch := make(chan struct{}, 64)
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return pc.LocalAddr().String(), ch
}

const twoListenerConfig = `
server:
  listeners: [%s]
  http: ""
upstreams: { servers: ["%s"], timeout: 10s }
networks: [{ name: n, addressPrefixes: ["127.0.0.0/8"] }]
zones: [{ name: corp.example, records: ["www 60 IN A 10.0.0.1"], links: [{ name: l, network: n }] }]
`

// gatedUpstream answers every query with 192.0.2.1 once release is called.
func gatedUpstream(t *testing.T) (addr string, release func()) {
	t.Helper()
	open := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(open) }) }
	t.Cleanup(release)
	up := resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		<-open
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}}
		w.WriteMsg(m)
	}))
	return up.Addr, release
}

func TestAListenerRemovedAndAddedBackWhileDrainingIsBound(t *testing.T) {
	// A specific address (inline readers) and a dual-stack one (miekg's
	// UDP server) are removed and added back; a third is only removed.
	up, release := gatedUpstream(t)
	one, three := freePort(t), freePort(t)
	_, port, _ := net.SplitHostPort(freePort(t))
	two := ":" + port
	listeners := func(addrs ...string) string {
		var ls []string
		for _, a := range addrs {
			ls = append(ls, fmt.Sprintf("{address: %q}", a))
		}
		return strings.Join(ls, ", ")
	}
	dial := func(a string) string { // where a client sends to reach listener a
		if strings.HasPrefix(a, ":") {
			return "127.0.0.1" + a
		}
		return a
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "privdns.yaml")
	srv := serveText(t, dir, fmt.Sprintf(twoListenerConfig, listeners(one, two, three), up))
	inFlight := map[string]chan error{}
	for i, addr := range []string{two, three} {
		done := make(chan error, 1)
		inFlight[addr] = done
		go func() {
			_, err := askErr("udp", "127.0.0.1", dial(addr), fmt.Sprintf("slow%d.example.com", i), dns.TypeA, true)
			done <- err
		}()
	}
	eventually(t, "both slow queries to reach the upstream", func() bool {
		return metricValue(t, srv.reg, "privdns_cache_misses_total", nil) == 2
	})
	writeAtomic(t, file, fmt.Sprintf(twoListenerConfig, listeners(one), up))
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, file, fmt.Sprintf(twoListenerConfig, listeners(one, two), up))
	if err := srv.Reload("test"); err != nil {
		t.Fatalf("adding %s back while its old listener drains: %v", two, err)
	}
	for _, proto := range []string{"udp", "tcp"} {
		if m := ask(t, proto, "127.0.0.1", dial(two), "www.corp.example", dns.TypeA, true); len(m.Answer) != 1 {
			t.Errorf("%s on the listener added back: %v", proto, m)
		}
	}
	release()
	// The listener not wanted back finishes its query undisturbed.
	if err := <-inFlight[three]; err != nil {
		t.Errorf("the query in flight on %s, removed and not added back: %v", three, err)
	}
}

func TestShutdownStopsEveryListenerAtOnce(t *testing.T) {
	up, _ := silentUpstream(t)
	first, second := freePort(t), freePort(t)
	srv := serveText(t, "", fmt.Sprintf(twoListenerConfig, fmt.Sprintf("{address: %q}, {address: %q}", first, second), up))
	go askErr("udp", "127.0.0.1", first, "slow.example.com", dns.TypeA, true) // holds the first for 5 s
	eventually(t, "the slow query to reach the upstream", func() bool {
		return metricValue(t, srv.reg, "privdns_cache_misses_total", nil) == 1
	})
	go srv.Close()
	// The second listener has nothing in flight: it closes at once, not
	// after the first has drained.
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, err := askErr("udp", "127.0.0.1", second, "www.corp.example", dns.TypeA, true); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second listener still answers 3 s into shutdown")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReloadForgetsTheHealthOfRemovedUpstreams(t *testing.T) {
	upA, _ := gatedUpstream(t)
	upB, _ := gatedUpstream(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "privdns.yaml")
	srv := serveText(t, dir, fmt.Sprintf(twoListenerConfig, fmt.Sprintf("{address: %q}", freePort(t)), upA))
	healthSeries := func() map[string]float64 {
		mfs, err := srv.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "privdns_upstream_healthy" {
				continue
			}
			for _, m := range mf.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
		return got
	}
	if got := healthSeries(); len(got) != 1 || got[upA] != 1 {
		t.Fatalf("before the reload: upstream_healthy %v, want %s at 1", got, upA)
	}
	writeAtomic(t, file, fmt.Sprintf(twoListenerConfig, fmt.Sprintf("{address: %q}", freePort(t)), upB))
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if got := healthSeries(); len(got) != 1 || got[upB] != 1 {
		t.Errorf("after replacing %s by %s: upstream_healthy %v, want only %s", upA, upB, got, upB)
	}
}

func TestAReloadKeepsWhatItKnowsOfAnUpstreamsHealth(t *testing.T) {
	refusing := resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		w.WriteMsg(new(dns.Msg).SetRcode(r, dns.RcodeRefused))
	}))
	good, release := gatedUpstream(t)
	release()
	const text = `
server:
  listeners: [%s]
  http: ""
upstreams: { servers: ["%s", "%s"], timeout: %s }
networks: [{ name: n, addressPrefixes: ["127.0.0.0/8"] }]
%s`
	addr := freePort(t)
	listener := fmt.Sprintf("{address: %q}", addr)
	dir := t.TempDir()
	file := filepath.Join(dir, "privdns.yaml")
	srv := serveText(t, dir, fmt.Sprintf(text, listener, refusing.Addr, good, "2s", ""))
	healthy := func() float64 {
		return metricValue(t, srv.reg, "privdns_upstream_healthy", map[string]string{"upstream": refusing.Addr})
	}
	for i := range 3 { // three failures in a row mark it down
		ask(t, "udp", "127.0.0.1", addr, fmt.Sprintf("n%d.example.com", i), dns.TypeA, true)
	}
	if healthy() != 0 {
		t.Fatalf("upstream_healthy of the refusing upstream is %v after three failures", healthy())
	}

	// A reload that fails (its new listener's port is taken) changes nothing.
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	writeAtomic(t, file, fmt.Sprintf(text, listener+fmt.Sprintf(", {address: %q}", busy.LocalAddr()), refusing.Addr, good, "1500ms", ""))
	if err := srv.Reload("test"); err == nil {
		t.Fatal("a reload binding a busy port succeeded")
	}
	if healthy() != 0 {
		t.Errorf("a failed reload set upstream_healthy to %v", healthy())
	}

	// One that rebuilds the route and gives a forwarding rule the same
	// target keeps it down, for both.
	rule := fmt.Sprintf(`forwardingRulesets: [{ name: r, networks: [n], rules: [{ domain: corp.example., targets: [%q] }] }]`, refusing.Addr)
	writeAtomic(t, file, fmt.Sprintf(text, listener, refusing.Addr, good, "1500ms", rule))
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if healthy() != 0 {
		t.Errorf("after the reload upstream_healthy is %v; the target was down", healthy())
	}
	if m := ask(t, "udp", "127.0.0.1", addr, "www.corp.example", dns.TypeA, true); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("the rule whose only target is down: %v", m)
	}
}

func TestMovingAPortToTheWildcardSaysItTakesARestart(t *testing.T) {
	up, release := gatedUpstream(t)
	release()
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	file := filepath.Join(dir, "privdns.yaml")
	srv := serveText(t, dir, fmt.Sprintf(twoListenerConfig, fmt.Sprintf("{address: %q}", addr), up))
	writeAtomic(t, file, fmt.Sprintf(twoListenerConfig, fmt.Sprintf("{address: %q}", "0.0.0.0:"+port), up))
	err := srv.Reload("test")
	if err == nil || !strings.Contains(err.Error(), "takes a restart") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("reload error %v, want one naming %s and saying a restart is needed", err, addr)
	}
	if m := ask(t, "udp", "127.0.0.1", addr, "www.corp.example", dns.TypeA, true); len(m.Answer) != 1 {
		t.Errorf("the running listener after the failed reload: %v", m)
	}
}

func TestAFailedReloadLeavesNoGaugeForTheTargetsItAdded(t *testing.T) {
	up, release := gatedUpstream(t)
	release()
	dir := t.TempDir()
	file := filepath.Join(dir, "privdns.yaml")
	listener := fmt.Sprintf("{address: %q}", freePort(t))
	srv := serveText(t, dir, fmt.Sprintf(twoListenerConfig, listener, up))
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	// A new upstream, and a listener on a busy port: the reload fails
	// after the new upstream's group was built.
	text := fmt.Sprintf(twoListenerConfig, listener+fmt.Sprintf(", {address: %q}", busy.LocalAddr()), up)
	text = strings.Replace(text, fmt.Sprintf("servers: [%q]", up), fmt.Sprintf("servers: [%q, %q]", up, "192.0.2.99:53"), 1)
	writeAtomic(t, file, text)
	if err := srv.Reload("test"); err == nil {
		t.Fatal("a reload binding a busy port succeeded")
	}
	if n := metricValue(t, srv.reg, "privdns_upstream_healthy", map[string]string{"upstream": "192.0.2.99:53"}); n != 0 {
		t.Errorf("upstream_healthy of a target only the failed reload had: %v", n)
	}
	mfs, _ := srv.reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == "192.0.2.99:53" {
					t.Errorf("%s still has a series for the target only the failed reload had", mf.GetName())
				}
			}
		}
	}
}

// TestReloadOfZoneFilesRewrittenAlike: a reload after every zone file got
// a comment (their data kept, not held twice) answers as before, from
// ready-packed replies too, and the next real edit answers new data.
func TestReloadOfZoneFilesRewrittenAlike(t *testing.T) {
	f := startReloadFixture(t, `{address: "127.0.0.1:0"}`)
	addr := f.srv.addrs()[0]
	for range 3 { // the later ones from ready-packed replies
		if n, err := answerVersion(ask(t, "udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)); err != nil || n != 0 {
			t.Fatalf("before: version %d (%v), want 0", n, err)
		}
	}
	for _, name := range []string{"one.zone", "two.zone"} {
		path := filepath.Join(f.dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		writeAtomic(t, path, string(b)+"; edited\n")
	}
	if err := f.srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if n, err := answerVersion(ask(t, "udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)); err != nil || n != 0 {
		t.Fatalf("after a rewrite alike: version %d (%v), want 0", n, err)
	}
	f.writeVersion(t, 3, `{address: "127.0.0.1:0"}`)
	if err := f.srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if n, err := answerVersion(ask(t, "udp", "127.0.1.7", addr, "v.one.example", dns.TypeA, true)); err != nil || n != 3 {
			t.Fatalf("after a real edit: version %d (%v), want 3", n, err)
		}
	}
}
