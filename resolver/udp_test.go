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
	// More slow queries than there are readers: every reader is held.
	slow := max(4, 2*runtime.GOMAXPROCS(0)) + 2
	g.held.Add(slow)
	answered := make(chan error, slow)
	for i := 0; i < slow; i++ {
		go func() {
			_, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(query("slow.example", dns.TypeA), l.Addr)
			answered <- err
		}()
	}
	g.held.Wait() // all slow queries are being resolved: readers were added for them
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

func TestWildcardListenerAnswersFromTheAddressAsked(t *testing.T) {
	w := newWorld(t, true)
	l, err := Listen("0.0.0.0:0", NewHandler(HandlerOptions{Resolver: w.engine}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Shutdown(context.Background()) })
	if l.udpW == nil {
		t.Fatal("a wildcard listener must use the server that sets the reply's source address")
	}
	_, port, _ := net.SplitHostPort(l.Addr)
	for _, proto := range []string{"udp", "tcp"} {
		// dns.Client rejects replies from any other address than the one asked.
		resp := exchangeFrom(t, proto, "127.0.1.9", net.JoinHostPort("127.0.0.1", port), query("www.corp.example", dns.TypeA))
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
			t.Errorf("%s: %v", proto, resp)
		}
	}
}
