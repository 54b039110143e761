package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// closedPort returns a loopback UDP address nobody listens on, so queries
// to it fail at once with "connection refused".
func closedPort(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func TestSequentialFailsOverToNextTarget(t *testing.T) {
	tests := []struct {
		name      string
		first     dns.HandlerFunc
		wantLabel string
		wantHits  int64 // on the first target
	}{
		{"SERVFAIL", rcode(dns.RcodeServerFailure), "SERVFAIL", 1},
		{"REFUSED", rcode(dns.RcodeRefused), "REFUSED", 1},
		// FORMERR without OPT: asked again without EDNS first (RFC 6891 §7).
		{"FORMERR", rcode(dns.RcodeFormatError), "FORMERR", 2},
		{"NOTIMP", rcode(dns.RcodeNotImplemented), "NOTIMP", 1},
		{"timeout", silent, "timeout", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad, good := newFake(t, tt.first), newFake(t, answer("192.0.2.2"))
			obs := &observer{}
			g := newTestGroup(t, GroupOptions{Targets: []string{bad.addr, good.addr}, Timeout: 500 * time.Millisecond, Observer: obs})

			m, err := g.Exchange(context.Background(), newReq("www.example.com"))
			if err != nil {
				t.Fatal(err)
			}
			wantA(t, m, "192.0.2.2")
			if bad.s.Hits() != tt.wantHits || good.s.Hits() != 1 {
				t.Errorf("hits first=%d second=%d, want %d and 1", bad.s.Hits(), good.s.Hits(), tt.wantHits)
			}
			requests, _ := obs.snapshot()
			var want []string
			for range tt.wantHits { // each request the first target got
				want = append(want, bad.addr+" "+tt.wantLabel)
			}
			want = append(want, good.addr+" NOERROR")
			if strings.Join(requests, ",") != strings.Join(want, ",") {
				t.Errorf("observed %v, want %v", requests, want)
			}
		})
	}
}

func TestSequentialFailsOverOnNetworkError(t *testing.T) {
	good := newFake(t, answer("192.0.2.2"))
	g := newTestGroup(t, GroupOptions{Targets: []string{closedPort(t), good.addr}})
	m, err := g.Exchange(context.Background(), newReq("www.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	wantA(t, m, "192.0.2.2")
}

func TestSequentialTriesTargetsInListOrder(t *testing.T) {
	var mu sync.Mutex
	var order []string
	handler := func(name string, h dns.HandlerFunc) dns.HandlerFunc {
		return func(w dns.ResponseWriter, r *dns.Msg) {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			h(w, r)
		}
	}
	a := newFake(t, handler("a", rcode(dns.RcodeServerFailure)))
	b := newFake(t, handler("b", rcode(dns.RcodeRefused)))
	c := newFake(t, handler("c", answer("192.0.2.3")))
	g := newTestGroup(t, GroupOptions{Targets: []string{a.addr, b.addr, c.addr}, FailThreshold: 100})

	for range 2 {
		if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(order, ""); got != "abcabc" {
		t.Errorf("order = %q, want abcabc: sequential always starts at the first target", got)
	}
}

func TestNXDOMAINAndNODATAAreAnswers(t *testing.T) {
	tests := []struct {
		name  string
		h     dns.HandlerFunc
		rcode int
	}{
		{"NXDOMAIN", rcode(dns.RcodeNameError), dns.RcodeNameError},
		{"NODATA", rcode(dns.RcodeSuccess), dns.RcodeSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, second := newFake(t, tt.h), newFake(t, answer("192.0.2.2"))
			g := newTestGroup(t, GroupOptions{Targets: []string{first.addr, second.addr}})
			m, err := g.Exchange(context.Background(), newReq("nope.example."))
			if err != nil {
				t.Fatal(err)
			}
			if m.Rcode != tt.rcode || second.s.Hits() != 0 {
				t.Errorf("rcode %s, second target hit %d times; want %s from the first only",
					dns.RcodeToString[m.Rcode], second.s.Hits(), tt.name)
			}
		})
	}
}

func TestEveryTargetFailingIsErrNoAnswerNamingEachTarget(t *testing.T) {
	a, b := newFake(t, rcode(dns.RcodeServerFailure)), newFake(t, silent)
	g := newTestGroup(t, GroupOptions{Name: "ruleset onprem", Targets: []string{a.addr, b.addr}, Timeout: 100 * time.Millisecond})

	_, err := g.Exchange(context.Background(), newReq("www.example.com"))
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("err = %v, want ErrNoAnswer", err)
	}
	for _, want := range []string{"ruleset onprem", "www.example.com. A", a.addr + ": rcode SERVFAIL", b.addr + ": udp read"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestPoliciesSpreadQueries(t *testing.T) {
	tests := []struct {
		policy Policy
		check  func(hits []int64) bool
	}{
		{Sequential, func(h []int64) bool { return h[0] == 30 && h[1] == 0 && h[2] == 0 }},
		{RoundRobin, func(h []int64) bool { return h[0] == 10 && h[1] == 10 && h[2] == 10 }},
		{Random, func(h []int64) bool { return h[0] > 0 && h[1] > 0 && h[2] > 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			fakes := []*fake{newFake(t, answer("192.0.2.1")), newFake(t, answer("192.0.2.1")), newFake(t, answer("192.0.2.1"))}
			g := newTestGroup(t, GroupOptions{Targets: []string{fakes[0].addr, fakes[1].addr, fakes[2].addr}, Policy: tt.policy})
			for range 30 {
				if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err != nil {
					t.Fatal(err)
				}
			}
			hits := []int64{fakes[0].s.Hits(), fakes[1].s.Hits(), fakes[2].s.Hits()}
			if !tt.check(hits) {
				t.Errorf("hits = %v, unexpected for %v", hits, tt.policy)
			}
		})
	}
}

func TestRoundRobinFailsOverThroughTheRest(t *testing.T) {
	bad, good := newFake(t, rcode(dns.RcodeServerFailure)), newFake(t, answer("192.0.2.2"))
	g := newTestGroup(t, GroupOptions{Targets: []string{bad.addr, good.addr}, Policy: RoundRobin, FailThreshold: 100})
	for range 4 {
		m, err := g.Exchange(context.Background(), newReq("www.example.com"))
		if err != nil {
			t.Fatal(err)
		}
		wantA(t, m, "192.0.2.2")
	}
	if bad.s.Hits() != 2 || good.s.Hits() != 4 {
		t.Errorf("hits bad=%d good=%d, want 2 and 4", bad.s.Hits(), good.s.Hits())
	}
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    Policy
		wantErr bool
	}{
		{"sequential", Sequential, false},
		{"", Sequential, false},
		{"Random", Random, false},
		{"roundRobin", RoundRobin, false},
		{"ROUNDROBIN", RoundRobin, false},
		{"round_robin", Sequential, true},
		{"fastest", Sequential, true},
	}
	for _, tt := range tests {
		got, err := ParsePolicy(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrBadPolicy)) {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestNewGroupParsesTargets(t *testing.T) {
	tests := []struct {
		spec, wantAddr, wantServerName string
		wantErr                        bool
	}{
		{spec: "168.63.129.16:53", wantAddr: "168.63.129.16:53"},
		{spec: "10.0.0.4", wantAddr: "10.0.0.4:53"},
		{spec: "[2001:db8::1]:5353", wantAddr: "[2001:db8::1]:5353"},
		{spec: "2001:db8::1", wantAddr: "[2001:db8::1]:53"},
		{spec: "tls://1.1.1.1:853#cloudflare-dns.com", wantAddr: "1.1.1.1:853", wantServerName: "cloudflare-dns.com"},
		{spec: "tls://9.9.9.9", wantAddr: "9.9.9.9:853", wantServerName: "9.9.9.9"},
		{spec: "dns.google:53", wantErr: true},
		{spec: "10.0.0.4:0", wantErr: true},
		{spec: "10.0.0.4:99999", wantErr: true},
		{spec: "", wantErr: true},
	}
	for _, tt := range tests {
		g, err := NewGroup(GroupOptions{Targets: []string{tt.spec}})
		if tt.wantErr {
			if !errors.Is(err, ErrBadTarget) {
				t.Errorf("%q: err = %v, want ErrBadTarget", tt.spec, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.spec, err)
			continue
		}
		tg := g.targets[0]
		serverName := ""
		if tg.tls != nil {
			serverName = tg.tls.cfg.ServerName
		}
		if tg.addr != tt.wantAddr || serverName != tt.wantServerName {
			t.Errorf("%q: addr %q server name %q, want %q %q", tt.spec, tg.addr, serverName, tt.wantAddr, tt.wantServerName)
		}
	}
	if _, err := NewGroup(GroupOptions{}); !errors.Is(err, ErrBadTarget) {
		t.Errorf("no targets: err = %v, want ErrBadTarget", err)
	}
}

func TestTTLsWithTheTopBitSetAreZero(t *testing.T) {
	a := newFake(t, func(w dns.ResponseWriter, r *dns.Msg) {
		m := reply(r, "192.0.2.1")
		m.Answer[0].Header().Ttl = 1<<31 + 5 // RFC 2181 §8: as if 0
		extra := reply(r, "192.0.2.2")
		extra.Answer[0].Header().Ttl = 1<<31 - 1 // the largest TTL that stands
		m.Answer = append(m.Answer, extra.Answer[0])
		w.WriteMsg(m)
	})
	g := newTestGroup(t, GroupOptions{Targets: []string{a.addr}})
	m, err := g.Exchange(context.Background(), newReq("www.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if got := []uint32{m.Answer[0].Header().Ttl, m.Answer[1].Header().Ttl}; got[0] != 0 || got[1] != 1<<31-1 {
		t.Errorf("TTLs %v, want [0 %d]", got, uint32(1<<31-1))
	}
}

func TestNoQuerySentErrorsAreFleeting(t *testing.T) {
	var f interface{ Fleeting() bool }
	for _, err := range []error{ErrAllDown, ErrOverloaded} {
		wrapped := fmt.Errorf("upstreams: www.example.com. A: %w: %w", ErrNoAnswer, err)
		if !errors.As(wrapped, &f) || !f.Fleeting() || !errors.Is(wrapped, err) {
			t.Errorf("%v: not fleeting through wrapping, or not itself", err)
		}
	}
	if errors.As(fmt.Errorf("x: %w", ErrNoAnswer), &f) {
		t.Error("ErrNoAnswer alone is fleeting: a real upstream failure would not be remembered")
	}
}
