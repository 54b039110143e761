package cache

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/privdns/privdns/resolver/resolvertest"
)

var errUpstreamDown = errors.New("fake upstream: SERVFAIL from every target")

// fakeUpstream is an Exchanger that counts its calls and answers with answer, which tests
// swap while running. With gate set, each call signals entered and waits for gate.
type fakeUpstream struct {
	calls atomic.Int64

	mu     sync.Mutex
	answer func(req *dns.Msg) (*dns.Msg, error)

	entered chan struct{}
	gate    chan struct{}
	once    sync.Once
}

func (f *fakeUpstream) Exchange(_ context.Context, req *dns.Msg) (*dns.Msg, error) {
	f.calls.Add(1)
	if f.gate != nil {
		f.entered <- struct{}{}
		<-f.gate
	}
	f.mu.Lock()
	answer := f.answer
	f.mu.Unlock()
	return answer(req)
}

func (f *fakeUpstream) set(answer func(req *dns.Msg) (*dns.Msg, error)) {
	f.mu.Lock()
	f.answer = answer
	f.mu.Unlock()
}

// blocking makes every call wait until the test calls release, so tests can hold a
// refresh in flight without sleeping. A failed test releases it on cleanup (before the
// cache's Wait, as cleanups run last-registered first).
func (f *fakeUpstream) blocking(t *testing.T) {
	f.entered = make(chan struct{}, 16)
	f.gate = make(chan struct{})
	t.Cleanup(f.release)
}

func (f *fakeUpstream) release() { f.once.Do(func() { close(f.gate) }) }

func newUpstream(answer func(req *dns.Msg) (*dns.Msg, error)) *fakeUpstream {
	f := &fakeUpstream{}
	f.set(answer)
	return f
}

// replyWith answers every question with the given zone-file lines, written with the owner
// "@" standing for the question name; it also adds an OPT the cache must not pass on.
func replyWith(t *testing.T, rcode int, answer []string, authority ...string) func(*dns.Msg) (*dns.Msg, error) {
	t.Helper()
	return func(req *dns.Msg) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetRcode(req, rcode)
		m.RecursionAvailable = true
		name := req.Question[0].Name
		for _, line := range answer {
			m.Answer = append(m.Answer, mustRR(t, name, line))
		}
		for _, line := range authority {
			m.Ns = append(m.Ns, mustRR(t, name, line))
		}
		m.SetEdns0(1232, false)
		return m, nil
	}
}

// unpackable answers with an A record of three bytes, which miekg cannot pack: the cache
// must answer it (it does not judge records) but cannot keep it in wire form.
func unpackable(req *dns.Msg) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Answer = []dns.RR{&dns.A{
		Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
		A:   net.IP{192, 0, 2},
	}}
	return m, nil
}

func failing(*dns.Msg) (*dns.Msg, error) { return nil, errUpstreamDown }

func mustRR(t testing.TB, name, line string) dns.RR {
	t.Helper()
	if len(line) > 0 && line[0] == '@' {
		line = name + line[1:]
	}
	rr, err := dns.NewRR(line)
	if err != nil {
		t.Fatalf("bad test RR %q: %v", line, err)
	}
	return rr
}

func never(time.Duration) <-chan time.Time { return nil }

// newTestCache builds a cache on a fake clock whose StaleAfter timer never fires unless
// the test injects After itself.
func newTestCache(t *testing.T, opts Options) (*Cache, *resolvertest.Clock) {
	t.Helper()
	clock := resolvertest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	opts.Now = clock.Now
	if opts.After == nil {
		opts.After = never
	}
	if opts.MaxEntries == 0 {
		opts.MaxEntries = 100
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.Wait)
	return c, clock
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

// ask sends req through ex and fails the test on an error.
func ask(t *testing.T, ex Exchanger, req *dns.Msg) *dns.Msg {
	t.Helper()
	resp, err := ex.Exchange(context.Background(), req)
	if err != nil {
		t.Fatalf("Exchange(%s): %v", req.Question[0].Name, err)
	}
	return resp
}

// ttls lists the TTL of every RR in the three sections but OPT (whose TTL field holds flags).
func ttls(m *dns.Msg) []uint32 {
	var out []uint32
	for _, section := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range section {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			out = append(out, rr.Header().Ttl)
		}
	}
	return out
}

func wantTTLs(t *testing.T, m *dns.Msg, want uint32) {
	t.Helper()
	got := ttls(m)
	if len(got) == 0 {
		t.Fatalf("no records in %v", m)
	}
	for _, ttl := range got {
		if ttl != want {
			t.Fatalf("TTLs %v, want all %d", got, want)
		}
	}
}

func wantCalls(t *testing.T, up *fakeUpstream, want int64) {
	t.Helper()
	if got := up.calls.Load(); got != want {
		t.Fatalf("upstream called %d times, want %d", got, want)
	}
}

// edeCodes lists the Extended DNS Error codes in m's OPT record.
func edeCodes(m *dns.Msg) []uint16 {
	var out []uint16
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if ede, ok := o.(*dns.EDNS0_EDE); ok {
				out = append(out, ede.InfoCode)
			}
		}
	}
	return out
}
