package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privdns/privdns/resolver/resolvertest"
)

func dotGroup(t *testing.T, target string, roots *tls.Config, clk *resolvertest.Clock) *Group {
	opts := GroupOptions{Targets: []string{target}, TLSConfig: roots}
	if clk != nil {
		opts.Now = clk.Now
	}
	return newTestGroup(t, opts)
}

func TestDoTReusesOneConnection(t *testing.T) {
	addr, conns, roots := newDoT(t, "dns.test", answer("192.0.2.53"))
	g := dotGroup(t, "tls://"+addr+"#dns.test", &tls.Config{RootCAs: roots}, nil)

	for range 5 {
		m, err := g.Exchange(context.Background(), newReq("www.example.com"))
		if err != nil {
			t.Fatal(err)
		}
		wantA(t, m, "192.0.2.53")
		if m.Id != 4242 {
			t.Fatalf("reply ID = %d, want the caller's", m.Id)
		}
	}
	if got := conns.accepted(); got != 1 {
		t.Errorf("server accepted %d connections for 5 queries, want 1", got)
	}
}

func TestDoTRetriesOnceWhenServerClosedPooledConnection(t *testing.T) {
	addr, conns, roots := newDoT(t, "dns.test", answer("192.0.2.53"))
	g := dotGroup(t, "tls://"+addr+"#dns.test", &tls.Config{RootCAs: roots}, nil)
	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err != nil {
		t.Fatal(err)
	}
	conns.cutAll()

	m, err := g.Exchange(context.Background(), newReq("www.example.com"))
	if err != nil {
		t.Fatalf("query after the server closed the pooled connection: %v", err)
	}
	wantA(t, m, "192.0.2.53")
	if got := conns.accepted(); got != 2 {
		t.Errorf("accepted %d connections, want 2 (the original and one retry)", got)
	}
}

func TestDoTDropsConnectionsIdleTooLong(t *testing.T) {
	addr, conns, roots := newDoT(t, "dns.test", answer("192.0.2.53"))
	clk := newClock()
	g := dotGroup(t, "tls://"+addr+"#dns.test", &tls.Config{RootCAs: roots}, clk)
	for _, advance := range []time.Duration{0, idleTLSTimeout - time.Second, idleTLSTimeout} {
		clk.Advance(advance)
		if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err != nil {
			t.Fatal(err)
		}
	}
	if got := conns.accepted(); got != 2 {
		t.Errorf("accepted %d connections, want 2: reuse within the idle timeout, redial after", got)
	}
}

func TestDoTRejectsCertificateForAnotherName(t *testing.T) {
	tests := []struct {
		name, target string
		roots        bool
	}{
		{"wrong server name", "#wrong.test", true},
		{"IP not in certificate", "", true},
		{"untrusted root", "#dns.test", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _, roots := newDoT(t, "dns.test", answer("192.0.2.53"))
			cfg := &tls.Config{RootCAs: roots}
			if !tt.roots {
				_, cfg.RootCAs = selfSigned(t, "dns.test") // same name, other key
			}
			g := dotGroup(t, "tls://"+addr+tt.target, cfg, nil)
			_, err := g.Exchange(context.Background(), newReq("www.example.com"))
			if !errors.Is(err, ErrNoAnswer) || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("err = %v, want ErrNoAnswer from certificate verification", err)
			}
		})
	}
}

func TestCloseClosesPooledConnections(t *testing.T) {
	addr, _, roots := newDoT(t, "dns.test", answer("192.0.2.53"))
	g := dotGroup(t, "tls://"+addr+"#dns.test", &tls.Config{RootCAs: roots}, nil)
	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err != nil {
		t.Fatal(err)
	}
	pool := g.targets[0].tls
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if len(pool.idle) != 0 || !pool.closed {
		t.Errorf("after Close: %d idle connections, closed=%v", len(pool.idle), pool.closed)
	}
}
