package resolver

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/zones"
)

// clientExchanger forwards to one fake server with a plain dns.Client.
type clientExchanger struct{ addr string }

func (c clientExchanger) Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	resp, _, err := new(dns.Client).ExchangeContext(ctx, req, c.addr)
	if err != nil {
		return nil, err
	}
	if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
		return nil, &rcodeError{resp.Rcode}
	}
	return resp, nil
}

type rcodeError struct{ rcode int }

func (e *rcodeError) Error() string { return "upstream answered " + dns.RcodeToString[e.rcode] }

func mustZone(t testing.TB, origin string, records ...string) *zones.Zone {
	t.Helper()
	z, err := zones.Load(origin, "", records)
	if err != nil {
		t.Fatalf("zone %s: %v", origin, err)
	}
	return z
}

func prefixes(t testing.TB, ps ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, false)
	return m
}

// rrStrings renders records as zone-file lines for comparison.
func rrStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	return out
}

// parseLines normalises expected zone-file lines the same way.
func parseLines(t testing.TB, lines []string) []string {
	t.Helper()
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("bad expected record %q: %v", l, err)
		}
		rrs = append(rrs, rr)
	}
	return rrStrings(rrs)
}

func edeTexts(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			for _, o := range opt.Option {
				if e, ok := o.(*dns.EDNS0_EDE); ok {
					out = append(out, e.ExtraText)
				}
			}
		}
	}
	return out
}

func startPublic(t testing.TB, records ...string) *resolvertest.Server {
	t.Helper()
	return resolvertest.New(t, resolvertest.MustPublic(records...))
}
