package cache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestPrefetchRefreshesOnceNearExpiry(t *testing.T) {
	c, clock := newTestCache(t, Options{Prefetch: true})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 100 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	ask(t, ex, query("a.example.", dns.TypeA))

	clock.Advance(91 * time.Second) // 9s left: under 10% of 100s
	up.set(replyWith(t, dns.RcodeSuccess, []string{"@ 100 IN A 192.0.2.2"}))
	up.blocking(t)
	for range 4 {
		resp := ask(t, ex, query("a.example.", dns.TypeA))
		if resp.Answer[0].(*dns.A).A.String() != "192.0.2.1" || resp.Answer[0].Header().Ttl != 9 {
			t.Fatalf("hit during prefetch got %v, want the cached record with TTL 9", resp.Answer)
		}
	}
	<-up.entered
	up.release()
	c.Wait()
	wantCalls(t, up, 2)

	clock.Advance(5 * time.Second)
	resp := ask(t, ex, query("a.example.", dns.TypeA))
	if resp.Answer[0].(*dns.A).A.String() != "192.0.2.2" || resp.Answer[0].Header().Ttl != 95 {
		t.Errorf("after prefetch got %v, want the renewed record with TTL 95", resp.Answer)
	}
	c.Wait()
	wantCalls(t, up, 2)
	if got := c.Stats(); got.Prefetches != 1 || got.Hits != 5 {
		t.Errorf("Stats %+v, want 1 prefetch and 5 hits", got)
	}
}

func TestPrefetchNotTriggered(t *testing.T) {
	tests := []struct {
		name     string
		prefetch bool
		ttl      string
		age      time.Duration
	}{
		{"more than 10% of the TTL left", true, "100", 89 * time.Second},
		{"original TTL under 10s", true, "9", 8*time.Second + 500*time.Millisecond},
		{"prefetch off", false, "100", 95 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clock := newTestCache(t, Options{Prefetch: tt.prefetch})
			up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ " + tt.ttl + " IN A 192.0.2.1"}))
			ex := c.Wrap("", up)
			ask(t, ex, query("a.example.", dns.TypeA))
			clock.Advance(tt.age)
			ask(t, ex, query("a.example.", dns.TypeA))
			c.Wait()
			wantCalls(t, up, 1)
			if got := c.Stats().Prefetches; got != 0 {
				t.Errorf("Prefetches %d, want 0", got)
			}
		})
	}
}

func TestConcurrentMissesCollapseIntoOneExchange(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(t *testing.T) func(*dns.Msg) (*dns.Msg, error)
		wantErr error
	}{
		{"answer", func(t *testing.T) func(*dns.Msg) (*dns.Msg, error) {
			return replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"})
		}, nil},
		{"answer not cached (TTL 0)", func(t *testing.T) func(*dns.Msg) (*dns.Msg, error) {
			return replyWith(t, dns.RcodeSuccess, []string{"@ 0 IN A 192.0.2.1"})
		}, nil},
		{"answer that cannot be packed", func(*testing.T) func(*dns.Msg) (*dns.Msg, error) {
			return unpackable
		}, nil},
		{"failure", func(*testing.T) func(*dns.Msg) (*dns.Msg, error) { return failing }, errUpstreamDown},
	}
	const n = 8
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Options{})
			joined := make(chan struct{}, n)
			c.flight.joined = func() { joined <- struct{}{} }
			up := newUpstream(tt.answer(t))
			up.blocking(t)
			ex := c.Wrap("", up)

			type result struct {
				id   uint16
				resp *dns.Msg
				err  error
			}
			results := make(chan result, n)
			for i := range n {
				go func() {
					req := query("a.example.", dns.TypeA)
					req.Id = uint16(i + 1)
					resp, err := ex.Exchange(context.Background(), req)
					results <- result{req.Id, resp, err}
				}()
			}
			<-up.entered
			for range n - 1 {
				<-joined
			}
			up.release()

			seen := map[dns.RR]bool{}
			for range n {
				r := <-results
				if !errors.Is(r.err, tt.wantErr) {
					t.Fatalf("waiter %d: error %v, want %v", r.id, r.err, tt.wantErr)
				}
				if r.err != nil {
					continue
				}
				if r.resp.Id != r.id {
					t.Errorf("waiter %d got reply ID %d", r.id, r.resp.Id)
				}
				if seen[r.resp.Answer[0]] {
					t.Errorf("waiter %d shares its answer record with another waiter", r.id)
				}
				seen[r.resp.Answer[0]] = true
			}
			wantCalls(t, up, 1)
		})
	}
}
