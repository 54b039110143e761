package dnsserver

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/resolvertest"
)

func edeCodes(m *dns.Msg) []uint16 {
	var out []uint16
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				out = append(out, e.InfoCode)
			}
		}
	}
	return out
}

// A client in no network is REFUSED with EDE 18 (Prohibited), over UDP
// and TCP, for IN and CHAOS queries alike, and each refusal is logged at
// debug level with the client's address.
func TestRefusedClientsInNoNetworkCarryEDE18AndAreLoggedAtDebug(t *testing.T) {
	view, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "vnet-a", Prefixes: resolvertest.Prefixes(t, "127.0.1.0/24")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf resolvertest.LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := startHandler(t, Options{Engine: resolver.NewEngine(resolver.EngineOptions{View: view}), Logger: log, Settings: Settings{Identity: "x"}})
	chaos := resolvertest.Query("id.server", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	for _, tc := range []struct {
		proto string
		m     *dns.Msg
	}{
		{"udp", resolvertest.Query("www.example.com", dns.TypeA)},
		{"tcp", resolvertest.Query("www.example.com", dns.TypeA)},
		{"udp", chaos},
	} {
		resp := resolvertest.ExchangeFrom(t, tc.proto, "127.0.9.5", l.Addr, tc.m)
		if resp.Rcode != dns.RcodeRefused || !slices.Equal(edeCodes(resp), []uint16{dns.ExtendedErrorCodeProhibited}) {
			t.Errorf("%s %s: rcode %s, EDE %v; want REFUSED with EDE 18", tc.proto, tc.m.Question[0].Name,
				dns.RcodeToString[resp.Rcode], edeCodes(resp))
		}
	}
	if n := strings.Count(buf.String(), "level=DEBUG msg=\"refused: the client is in no network\" client=127.0.9.5"); n != 3 {
		t.Errorf("%d debug lines for the refusals, want 3:\n%s", n, buf.String())
	}
	if resp := resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query("id.server.", dns.TypeTXT)); len(edeCodes(resp)) != 0 {
		t.Errorf("a client in a network got EDE %v", edeCodes(resp))
	}
}

type failingRoute struct{}

func (failingRoute) Exchange(context.Context, *dns.Msg) (*dns.Msg, error) {
	return nil, errors.New("upstream answered SERVFAIL")
}

// A fallback whose public answer fails is logged with path fallback, in
// the query log and in the debug line that says why there is no answer.
func TestAFailedFallbackIsLoggedAsAFallback(t *testing.T) {
	z := resolvertest.Zone(t, "privatelink.example", "contoso 60 IN A 10.0.0.1")
	view, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "vnet-a", Prefixes: resolvertest.Prefixes(t, "127.0.1.0/24")}},
		Links:    []resolver.Link{{Name: "a-link", Network: "vnet-a", Zone: z, Policy: resolver.PolicyNxDomainRedirect}},
		Default:  failingRoute{},
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf resolvertest.LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := startHandler(t, Options{Engine: resolver.NewEngine(resolver.EngineOptions{View: view}), Logger: log,
		Settings: Settings{QueryLog: true, QuerySampling: 1}})
	resp := resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query("fabrikam.privatelink.example", dns.TypeA))
	if resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("rcode %s, want SERVFAIL", dns.RcodeToString[resp.Rcode])
	}
	var query, why string
	for _, line := range strings.Split(buf.String(), "\n") {
		switch {
		case strings.Contains(line, "msg=query "):
			query = line
		case strings.Contains(line, `msg="no answer"`):
			why = line
		}
	}
	if !strings.Contains(query, "rcode=SERVFAIL path=fallback") {
		t.Errorf("query log line %q, want path=fallback", query)
	}
	if !strings.Contains(why, "path=fallback") {
		t.Errorf("debug line %q, want path=fallback", why)
	}
}
