package resolver_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// summary is everything a client sees of an answer, in a comparable form.
func summary(resp *dns.Msg, err error) string {
	if err != nil {
		return "SERVFAIL"
	}
	parts := []string{dns.RcodeToString[resp.Rcode]}
	parts = append(parts, resolvertest.RRStrings(resp.Answer)...)
	parts = append(parts, "|")
	// A cached negative answer's SOA carries its negative TTL (RFC 2308
	// §3), min(SOA TTL, MINIMUM); compare uncached ones the same way.
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			c := *soa
			c.Hdr.Ttl = min(c.Hdr.Ttl, c.Minttl)
			rr = &c
		}
		parts = append(parts, resolvertest.RRStrings([]dns.RR{rr})...)
	}
	parts = append(parts, resolvertest.EDETexts(resp)...)
	return strings.Join(parts, "\n")
}

func TestCacheNeverChangesAnAnswer(t *testing.T) {
	clock := resolvertest.NewClock(time.Unix(1_800_000_000, 0))
	plain := enginetest.New(t, true)
	cached, c := enginetest.Cached(t, clock, true)
	names := []string{
		"contoso.blob.core.windows.net", "fabrikam.blob.core.windows.net", "gone.blob.core.windows.net",
		"kv1.vault.azure.net", "www.contoso.com", "www.example.com", "disabled.example",
		"contoso.privatelink.blob.core.windows.net", "fabrikam.privatelink.blob.core.windows.net",
		"www.dev.corp.example", "app.corp.example", "ext.contoso.com", "nothing.example.com",
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCNAME}
	froms := []netip.Addr{plain.Bob, plain.Alice, plain.Cat, plain.Cat, plain.Alice, plain.Bob}
	compared := 0
	// Three rounds: the first fills the cache in one network's order, the
	// next ones are answered from it in other networks' orders.
	for round := 0; round < 3; round++ {
		for i, name := range names {
			for j, qtype := range types {
				from := froms[(i+j+round)%len(froms)]
				for _, from := range []netip.Addr{from, plain.Bob, plain.Alice, plain.Cat} {
					q := func() *resolver.Query { return &resolver.Query{Msg: resolvertest.Query(name, qtype), Client: from} }
					want := summary(plain.Engine.Resolve(context.Background(), q()))
					got := summary(cached.Engine.Resolve(context.Background(), q()))
					if got != want {
						t.Errorf("round %d, %s %s from %s:\ncache on:\n%s\ncache off:\n%s", round, name, dns.TypeToString[qtype], from, got, want)
					}
					compared++
				}
			}
		}
	}
	st := c.Stats()
	if st.Hits == 0 || st.Hits < st.Misses {
		t.Errorf("cache stats %+v: the comparison must mostly run on hits", st)
	}
	t.Logf("%d answers compared; cache %+v", compared, st)
}
