package xfr

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/zones"
)

// startServer runs handler on 127.0.0.1:0 over UDP and TCP with the given
// keyring verifying TSIG, and returns the address (the same port for
// both) and a counter of requests.
func startServer(t *testing.T, kr Keyring, handler dns.HandlerFunc) (string, *atomic.Int64) {
	t.Helper()
	hits := new(atomic.Int64)
	counted := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		hits.Add(1)
		handler(w, r)
	})
	var tsig dns.TsigProvider
	if kr != nil {
		tsig = kr
	}
	return resolvertest.NewSigned(t, counted, tsig).Addr, hits
}

// mustZone loads inline records for a test zone.
func mustZone(t testing.TB, name string, records ...string) *zones.Zone {
	t.Helper()
	z, err := zones.Load(name, "", records)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func mustKey(t testing.TB, name, alg, secret string) *Key {
	t.Helper()
	k, err := NewKey(name, alg, secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// texts renders records one per line, for comparisons.
func texts(rrs []dns.RR) string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	return strings.Join(out, "\n")
}
