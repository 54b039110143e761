package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
)

// limitsConfig serves vnet-bob (127.0.1.0/24) a private zone and forwards
// the rest to %s; %s is the server.limits and server.rateLimit block.
const limitsConfig = `
server:
  listeners: [{address: "127.0.0.1:0"}, {address: "127.0.0.1:0"}]
  http: ""
%s
upstreams:
  servers: ["%s"]
  timeout: 5s
networks:
  - name: vnet-bob
    addressPrefixes: ["127.0.1.0/24"]
zones:
  - name: corp.example
    records: ["www 300 IN A 10.0.0.1"]
    links: [{name: bob-corp, network: vnet-bob}]
`

// slowUpstream answers every name at once but those starting "slow",
// which it holds until release; entered says when it holds one.
func slowUpstream(t *testing.T) (addr string, entered <-chan struct{}, release func()) {
	in, open := make(chan struct{}, 16), make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(open) }) }
	public := resolvertest.MustPublic("example.com. 300 IN SOA ns.example.com. h.example.com. 1 3600 300 2419200 300")
	up := resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if strings.HasPrefix(r.Question[0].Name, "slow") {
			in <- struct{}{}
			<-open
		}
		w.WriteMsg(public.Answer(r))
	}))
	t.Cleanup(release) // before the server closes: Cleanups run last first
	return up.Addr, in, release
}

func limited(t *testing.T, s *server, limit string) float64 {
	t.Helper()
	return metricValue(t, s.reg, "privdns_limited_total", map[string]string{"limit": limit})
}

func TestEndToEndLimitsFollowReloads(t *testing.T) {
	up, entered, release := slowUpstream(t)
	dir := t.TempDir()
	limits := `  limits: {inFlight: 1, tcpQueriesPerConnection: 2}
  rateLimit: {enabled: true, queriesPerSecond: 0.001, burst: 3, slip: 1}`
	srv := serveText(t, dir, fmt.Sprintf(limitsConfig, limits, up))
	addrs := srv.addrs()

	// rateLimit, across both listeners: a burst of 3, then TC (slip 1),
	// and over TCP the answer.
	for i := range 3 {
		if m := ask(t, "udp", "127.0.1.10", addrs[i%2], "www.corp.example", dns.TypeA, false); m.Truncated || len(m.Answer) != 1 {
			t.Fatalf("query %d of the burst: %v", i, m)
		}
	}
	if m := ask(t, "udp", "127.0.1.11", addrs[1], "www.corp.example", dns.TypeA, false); !m.Truncated || len(m.Answer) != 0 {
		t.Fatalf("beyond the burst of the /24: %v, want TC without records", m)
	}
	if m := ask(t, "tcp", "127.0.1.11", addrs[1], "www.corp.example", dns.TypeA, false); m.Truncated || len(m.Answer) != 1 {
		t.Fatalf("the retry over TCP: %v", m)
	}
	if n := limited(t, srv, "rateLimit"); n != 1 {
		t.Errorf("rateLimit counted %v, want 1", n)
	}

	// tcpQueriesPerConnection: 2 answers, then the connection is closed.
	c, err := dns.Dial("tcp", addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for i := range 3 {
		err := c.WriteMsg(resolvertest.Query("www.corp.example", dns.TypeA))
		if err == nil {
			_, err = c.ReadMsg()
		}
		if (err == nil) != (i < 2) {
			t.Fatalf("query %d on one connection: err %v; want 2 answers, then the close", i, err)
		}
	}

	// inFlight: 1, over TCP (never rate limited): one slow name waits,
	// the next one needing an upstream is SERVFAIL at once, private
	// names are answered.
	go askErr("tcp", "127.0.1.10", addrs[0], "slow.example.com", dns.TypeA, false)
	<-entered
	if m := ask(t, "tcp", "127.0.1.10", addrs[1], "new.example.com", dns.TypeA, true); m.Rcode != dns.RcodeServerFailure ||
		len(resolvertest.EDETexts(m)) != 1 || resolvertest.EDETexts(m)[0] != "privdns: too many queries in flight" {
		t.Errorf("beyond inFlight: %v", m)
	}
	if m := ask(t, "tcp", "127.0.1.10", addrs[1], "www.corp.example", dns.TypeA, false); len(m.Answer) != 1 {
		t.Errorf("a private name beyond inFlight: %v", m)
	}
	if n := limited(t, srv, "inFlight"); n != 1 {
		t.Errorf("inFlight counted %v, want 1", n)
	}

	// A reload lifts them all, for the listeners already bound.
	if err := os.WriteFile(filepath.Join(dir, "privdns.yaml"), []byte(fmt.Sprintf(limitsConfig, "  limits: {inFlight: 2}", up)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if m := ask(t, "udp", "127.0.1.10", addrs[i%2], "www.corp.example", dns.TypeA, false); m.Truncated {
			t.Fatalf("query %d after the reload turned rate limiting off: TC", i)
		}
	}
	if m := ask(t, "udp", "127.0.1.10", addrs[1], "new.example.com", dns.TypeA, false); m.Rcode != dns.RcodeNameError {
		t.Errorf("with inFlight raised to 2 and one slow: %v", m)
	}
	release()
}
