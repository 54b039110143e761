package resolver_test

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// missingNames is an Observer that keeps every NXDomain call.
type missingNames struct {
	mu    sync.Mutex
	calls []string
}

func (m *missingNames) PrivateAnswer(string, string, string) {}
func (m *missingNames) CNAMEIntoPrivate(string)              {}
func (m *missingNames) NXDomain(zone, network, link, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, zone+" "+network+" "+link+" "+name)
}

// The Observer hears the missing name of every NXDOMAIN a Default link
// answers, the CNAME target when a chain led there, and nothing for
// NxDomainRedirect links, fallbacks, NODATA or answers.
func TestObserverHearsTheMissingNameOfADefaultNXDOMAIN(t *testing.T) {
	const blob = "privatelink.blob.core.windows.net."
	w := enginetest.New(t, true)
	for _, tc := range []struct {
		name  string
		from  netip.Addr
		qname string
		qtype uint16
		want  []string
	}{
		{"missing name", w.Bob, "nothere." + blob, dns.TypeA, []string{blob + " vnet-bob bob-link nothere." + blob}},
		{"spelt in capitals", w.Bob, "NotHere." + blob, dns.TypeA, []string{blob + " vnet-bob bob-link nothere." + blob}},
		{"private CNAME to a missing name", w.Bob, "inside." + blob, dns.TypeA, []string{blob + " vnet-bob bob-link nothere." + blob}},
		{"public CNAME into the zone", w.Bob, "gone.blob.core.windows.net", dns.TypeA, []string{blob + " vnet-bob bob-link gone." + blob}},
		{"existing name", w.Bob, "contoso." + blob, dns.TypeA, nil},
		{"NODATA", w.Bob, "contoso." + blob, dns.TypeMX, nil},
		{"NxDomainRedirect falls back", w.Alice, "fabrikam." + blob, dns.TypeA, nil},
		{"NxDomainRedirect without fallback for the type", w.Alice, "nothere." + blob, dns.TypeMX, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := &missingNames{}
			e := resolver.NewEngine(resolver.EngineOptions{View: w.Engine.View(), Observer: obs})
			if _, err := e.Resolve(context.Background(), &resolver.Query{Msg: resolvertest.Query(tc.qname, tc.qtype), Client: tc.from}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(obs.calls, tc.want) {
				t.Errorf("NXDomain calls %q, want %q", obs.calls, tc.want)
			}
		})
	}
}
