package secondary

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/xfr"
)

const secretA = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="

// version returns the test zone's records at serial, with a www address
// that tells versions apart, in master-file syntax relative to the zone.
func version(serial int, extra ...string) []string {
	return append([]string{
		fmt.Sprintf("@ 3600 IN SOA ns1 hm %d 60 30 600 10", serial),
		"@ 60 IN NS ns1",
		"ns1 60 IN A 10.0.0.53",
		fmt.Sprintf("www 60 IN A 10.0.1.%d", serial%250),
	}, extra...)
}

func mustZone(t testing.TB, records ...string) *zones.Zone {
	t.Helper()
	z, err := zones.Load("corp.example", "", records)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func mustRRs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	out := make([]dns.RR, len(lines))
	for i, l := range lines {
		rr, err := dns.NewRR("$ORIGIN corp.example.\n" + l)
		if err != nil {
			t.Fatalf("bad record %q: %v", l, err)
		}
		out[i] = rr
	}
	return out
}

// fakePrimary is a primary on 127.0.0.1:0 (UDP and TCP on one port). In
// mode "ok" it serves its zone with xfr.Serve, keeping a history so that
// IXFR answers incrementally; the other modes misbehave.
type fakePrimary struct {
	addr string
	mu   sync.Mutex
	mode string
	out  *xfr.Outbound
	raw  []dns.RR // mode "raw": sent as they are, between two copies of raw[0]
	hits map[uint16]*atomic.Int64
	key  *xfr.Key
}

func newPrimary(t *testing.T, key *xfr.Key, z *zones.Zone) *fakePrimary {
	t.Helper()
	p := &fakePrimary{mode: "ok", key: key, hits: map[uint16]*atomic.Int64{}}
	for _, q := range []uint16{dns.TypeSOA, dns.TypeAXFR, dns.TypeIXFR} {
		p.hits[q] = new(atomic.Int64)
	}
	p.out = &xfr.Outbound{Zone: z, History: xfr.NewHistory(xfr.HistoryOptions{}), Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Key: key}
	var kr xfr.Keyring
	if key != nil {
		kr = xfr.NewKeyring(key)
	}
	p.addr = listen(t, kr, p.serve)
	return p
}

// set makes z the primary's zone, recording the change for IXFR.
func (p *fakePrimary) set(z *zones.Zone) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.History.Add(p.out.Zone, z)
	o := *p.out
	o.Zone = z
	p.out = &o
}

func (p *fakePrimary) setMode(mode string, raw []dns.RR) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.raw = mode, raw
}

func (p *fakePrimary) serve(w dns.ResponseWriter, r *dns.Msg) {
	q := r.Question[0].Qtype
	if h := p.hits[q]; h != nil {
		h.Add(1)
	}
	p.mu.Lock()
	mode, out, raw := p.mode, p.out, p.raw
	p.mu.Unlock()
	switch {
	case mode == "down":
		w.Close()
	case mode == "notauth":
		xfr.Reply(w, r, dns.RcodeNotAuth)
	case mode == "noixfr" && q == dns.TypeIXFR:
		xfr.Reply(w, r, dns.RcodeNotImplemented)
	case mode == "raw" && q == dns.TypeSOA:
		xfr.Reply(w, r, dns.RcodeSuccess, raw[0])
	case mode == "raw":
		ch := make(chan *dns.Envelope, 1)
		ch <- &dns.Envelope{RR: append(append([]dns.RR{}, raw...), raw[0])}
		close(ch)
		new(dns.Transfer).Out(w, r, ch)
	case mode == "truncated" && q != dns.TypeSOA:
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = out.Zone.Records()[:2] // the SOA and one record, then nothing
		w.WriteMsg(m)
		w.Close()
	default:
		xfr.Serve(w, r, out)
	}
}

// listen serves handler on 127.0.0.1:0 over UDP and TCP and returns the
// address.
func listen(t *testing.T, kr xfr.Keyring, handler dns.HandlerFunc) string {
	t.Helper()
	var tsig dns.TsigProvider
	if kr != nil {
		tsig = kr
	}
	return resolvertest.NewSigned(t, handler, tsig).Addr
}

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// harness is a Secondary under test with its clock, log and metrics.
type harness struct {
	t     *testing.T
	s     *Secondary
	clock *fakeClock
	log   *resolvertest.LogBuffer
	reg   *prometheus.Registry
}

// newHarness builds a Secondary; change opts with edit before New.
func newHarness(t *testing.T, primaries []string, edit func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(), log: &resolvertest.LogBuffer{}, reg: prometheus.NewRegistry()}
	opts := Options{
		Zone: "corp.example", Primaries: primaries,
		Now: h.clock.Now, After: h.clock.After,
		Logger:     slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: h.reg, Timeout: 300 * time.Millisecond,
	}
	if edit != nil {
		edit(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	return h
}

// run starts Run and waits for the first check to end; it returns the
// time to the next check.
func (h *harness) run() time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.s.Run(ctx); close(done) }()
	h.t.Cleanup(func() { cancel(); <-done })
	return h.clock.Wait(h.t)
}

// notify asks for a check and waits for it to end.
func (h *harness) notify() time.Duration {
	h.s.Notify()
	return h.clock.Wait(h.t)
}

// www is the address the served zone gives www, or "" without data.
func (h *harness) www() string {
	z := h.s.Current()
	if z == nil {
		return ""
	}
	r := z.Lookup("www.corp.example.", dns.TypeA)
	if r.Kind != zones.Answer {
		return "no www"
	}
	return r.Records[0].(*dns.A).A.String()
}

// metric returns the value of a series, 0 when absent.
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func (h *harness) transfers(result string) float64 {
	return h.metric("privdns_zone_transfers_total", "zone", "corp.example.", "direction", "in", "result", result)
}

func (h *harness) logHas(parts ...string) bool {
	for _, line := range strings.Split(h.log.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
