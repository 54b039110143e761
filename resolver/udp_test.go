package resolver

import (
	"context"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// gatedResolver holds every query for a name starting with "slow" until
// release is closed, and answers the others at once.
type gatedResolver struct {
	release chan struct{}
	held    sync.WaitGroup
}

func (g *gatedResolver) Resolve(ctx context.Context, q *Query) (*dns.Msg, error) {
	if strings.HasPrefix(q.Msg.Question[0].Name, "slow") {
		g.held.Done()
		<-g.release
	}
	resp := new(dns.Msg)
	resp.SetReply(q.Msg)
	return resp, nil
}

func TestSlowQueriesDoNotHoldUpOthers(t *testing.T) {
	g := &gatedResolver{release: make(chan struct{})}
	l := startHandler(t, HandlerOptions{Resolver: g})
	if l.udp == nil {
		t.Fatal("a listener on 127.0.0.1 must use the inline UDP readers")
	}
	// Many more slow queries than there are readers: each is answered on
	// its own goroutine, and all wait at once.
	slow := 25 * max(4, 2*runtime.GOMAXPROCS(0))
	g.held.Add(slow)
	answered := make(chan error, slow)
	for i := 0; i < slow; i++ {
		go func() {
			_, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(query("slow.example", dns.TypeA), l.Addr)
			answered <- err
		}()
	}
	g.held.Wait() // all slow queries are being resolved at once
	if resp := exchangeFrom(t, "udp", "", l.Addr, query("fast.example", dns.TypeA)); resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("fast query while %d are held: %v", slow, resp)
	}
	close(g.release)
	for i := 0; i < slow; i++ {
		if err := <-answered; err != nil {
			t.Errorf("slow query: %v", err)
		}
	}
}

func TestWildcardListenersAnswerFromTheAddressAsked(t *testing.T) {
	w := newWorld(t, true)
	for _, tc := range []struct {
		addr   string
		inline bool // IPv4 wildcard: inline readers with IP_PKTINFO
	}{
		{"0.0.0.0:0", true},
		{":0", false}, // dual stack: miekg's server
	} {
		l, err := Listen(tc.addr, NewHandler(HandlerOptions{Resolver: w.engine}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Shutdown(context.Background()) })
		if got := l.udp != nil; got != tc.inline {
			t.Errorf("%s: inline readers %v, want %v", tc.addr, got, tc.inline)
		}
		_, port, _ := net.SplitHostPort(l.Addr)
		// dns.Client's connected UDP socket only takes replies from the
		// address it asked: a reply from another one times the query out.
		for _, dst := range []string{"127.0.0.1", "127.0.0.2", "127.0.5.5"} {
			for i := 0; i < 2; i++ { // the second may be ready-packed
				for _, proto := range []string{"udp", "tcp"} {
					resp := exchangeFrom(t, proto, "127.0.1.9", net.JoinHostPort(dst, port), query("www.corp.example", dns.TypeA))
					if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
						t.Errorf("%s via %s %s: %v", tc.addr, dst, proto, resp)
					}
				}
			}
		}
	}
}

func TestShutdownAnswersTheUDPQueriesInFlight(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		t.Run(addr, func(t *testing.T) {
			g := &gatedResolver{release: make(chan struct{})}
			l, err := Listen(addr, NewHandler(HandlerOptions{Resolver: g}))
			if err != nil {
				t.Fatal(err)
			}
			if l.udp == nil {
				t.Fatal("not the inline UDP readers")
			}
			_, port, _ := net.SplitHostPort(l.Addr)
			g.held.Add(1)
			answered := make(chan error, 1)
			go func() {
				_, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(query("slow.example", dns.TypeA), "127.0.0.1:"+port)
				answered <- err
			}()
			g.held.Wait()
			stopped := make(chan error, 1)
			go func() { stopped <- l.Shutdown(context.Background()) }()
			// Shutdown waits for the held query; then the query is answered.
			select {
			case err := <-stopped:
				t.Fatalf("Shutdown returned (%v) while a query was in flight", err)
			case <-time.After(50 * time.Millisecond):
			}
			close(g.release)
			if err := <-answered; err != nil {
				t.Errorf("the query in flight during shutdown: %v", err)
			}
			if err := <-stopped; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if _, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(query("fast.example", dns.TypeA), "127.0.0.1:"+port); err == nil {
				t.Error("a query after shutdown was answered")
			}
		})
	}
}
