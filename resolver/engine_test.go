package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
)

// The public internet of the tests: Azure-style CNAME chains into
// privatelink names, as public resolvers answer them.
var publicRecords = []string{
	"core.windows.net. 3600 IN SOA ns1-01.azure-dns.com. azuredns-hostmaster.microsoft.com. 1 3600 300 2419200 300",
	"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net.",
	"contoso.privatelink.blob.core.windows.net. 60 IN CNAME blob.bn9prdstr08a.store.core.windows.net.",
	"blob.bn9prdstr08a.store.core.windows.net. 60 IN A 20.150.1.1",
	"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net.",
	"fabrikam.privatelink.blob.core.windows.net. 60 IN CNAME blob.xyz01prdstr02a.store.core.windows.net.",
	"blob.xyz01prdstr02a.store.core.windows.net. 60 IN A 20.60.2.2",
	"fabrikam.privatelink.blob.core.windows.net. 60 IN TXT \"public txt\"",
	"gone.blob.core.windows.net. 60 IN CNAME gone.privatelink.blob.core.windows.net.",
	"azure.net. 3600 IN SOA ns1-01.azure-dns.com. azuredns-hostmaster.microsoft.com. 1 3600 300 2419200 300",
	"kv1.vault.azure.net. 60 IN CNAME kv1.privatelink.vaultcore.azure.net.",
	"kv1.privatelink.vaultcore.azure.net. 60 IN CNAME data-prod-weu.vaultcore.azure.net.",
	"data-prod-weu.vaultcore.azure.net. 60 IN A 52.1.1.1",
	"www.example.com. 300 IN A 93.184.215.14",
	"www.contoso.com. 300 IN CNAME app.corp.contoso.com.",
	"ext.contoso.com. 300 IN CNAME www.example.com.",
	"disabled.example. 300 IN A 192.0.2.80",
	"app.corp.example. 300 IN A 192.0.2.99",
}

// onpremRecords are only known to the on-premises servers of the
// forwarding ruleset.
var onpremRecords = []string{
	"app.corp.contoso.com. 300 IN A 10.10.1.1",
	"disabled.example. 300 IN A 10.10.9.9",
	"contoso.privatelink.blob.core.windows.net. 300 IN A 10.10.6.6",
}

type world struct {
	engine          *Engine
	public, onprem  *resolvertest.Server
	bob, alice, cat netip.Addr
}

const (
	bobNet   = "127.0.1.0/24" // vnet-bob: links with Default
	aliceNet = "127.0.2.0/24" // vnet-alice: links with NxDomainRedirect
	catNet   = "127.0.3.0/24" // vnet-cat: no links at all
)

func newWorld(t *testing.T, explain bool) *world {
	t.Helper()
	w := &world{
		public: startPublic(t, publicRecords...),
		onprem: startPublic(t, onpremRecords...),
		bob:    netip.MustParseAddr("127.0.1.10"),
		alice:  netip.MustParseAddr("127.0.2.10"),
		cat:    netip.MustParseAddr("127.0.3.10"),
	}
	blob := mustZone(t, "privatelink.blob.core.windows.net",
		"contoso 10 IN A 10.1.0.5",
		"alias 10 IN CNAME contoso",
		"loop1 10 IN CNAME loop2",
		"loop2 10 IN CNAME loop1",
		"out 10 IN CNAME www.example.com.",
		"inside 10 IN CNAME nothere",
	)
	vault := mustZone(t, "privatelink.vaultcore.azure.net", "kv1 10 IN A 10.1.0.7")
	corp := mustZone(t, "corp.example", "www 300 IN A 10.2.0.1", "app 300 IN A 10.2.0.2")
	dev := mustZone(t, "dev.corp.example", "www 300 IN A 10.3.0.1")
	var chain []string
	for i := 0; i < 12; i++ {
		chain = append(chain, fmt.Sprintf("c%d 10 IN CNAME c%d", i, i+1))
	}
	chain = append(chain, "c12 10 IN A 10.9.9.9")
	long := mustZone(t, "chain.example", chain...)

	view, err := NewView(ViewOptions{
		Networks: []Network{
			{Name: "vnet-bob", Prefixes: prefixes(t, bobNet)},
			{Name: "vnet-alice", Prefixes: prefixes(t, aliceNet)},
			{Name: "vnet-cat", Prefixes: prefixes(t, catNet)},
		},
		Links: []Link{
			{Name: "bob-link", Network: "vnet-bob", Zone: blob},
			{Name: "bob-vault", Network: "vnet-bob", Zone: vault},
			{Name: "bob-corp", Network: "vnet-bob", Zone: corp},
			{Name: "bob-dev", Network: "vnet-bob", Zone: dev},
			{Name: "bob-chain", Network: "vnet-bob", Zone: long},
			{Name: "alice-link", Network: "vnet-alice", Zone: blob, Policy: PolicyNxDomainRedirect},
			{Name: "alice-vault", Network: "vnet-alice", Zone: vault, Policy: PolicyNxDomainRedirect},
		},
		Rules: []Route{
			{Name: "onprem/corp.contoso.com.", Domain: "corp.contoso.com.", Networks: []string{"vnet-bob", "vnet-alice"}, Upstream: clientExchanger{w.onprem.Addr}},
			{Name: "onprem/privatelink.blob.core.windows.net.", Domain: "privatelink.blob.core.windows.net.", Networks: []string{"vnet-bob", "vnet-cat"}, Upstream: clientExchanger{w.onprem.Addr}},
			{Name: "onprem/disabled.example.", Domain: "disabled.example.", Networks: []string{"vnet-bob"}, Disabled: true, Upstream: clientExchanger{w.onprem.Addr}},
		},
		Default: clientExchanger{w.public.Addr},
		Explain: explain,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.engine = NewEngine(EngineOptions{View: view})
	return w
}

type resolveCase struct {
	name       string
	from       netip.Addr
	network    string // listener network, if any
	qname      string
	qtype      uint16
	wantRcode  int
	wantAnswer []string
	wantNs     []string
	wantEDE    string // substring of the one EDE text expected; "" = none
}

func (w *world) check(t *testing.T, tc resolveCase) {
	t.Helper()
	q := &Query{Msg: query(tc.qname, tc.qtype), Client: tc.from, Network: tc.network, Proto: "udp"}
	resp, err := w.engine.Resolve(context.Background(), q)
	if tc.wantRcode == dns.RcodeServerFailure {
		if err == nil {
			t.Fatalf("got an answer (%s), want an error (SERVFAIL)", dns.RcodeToString[resp.Rcode])
		}
		return
	}
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if resp.Rcode != tc.wantRcode {
		t.Errorf("rcode = %s, want %s\n%v", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.wantRcode], resp)
	}
	if got, want := rrStrings(resp.Answer), parseLines(t, tc.wantAnswer); !slices.Equal(got, want) {
		t.Errorf("answer:\n got %q\nwant %q", got, want)
	}
	if got, want := rrStrings(resp.Ns), parseLines(t, tc.wantNs); !slices.Equal(got, want) {
		t.Errorf("authority:\n got %q\nwant %q", got, want)
	}
	edes := edeTexts(resp)
	switch {
	case tc.wantEDE == "" && len(edes) > 0:
		t.Errorf("unexpected EDE %q", edes)
	case tc.wantEDE != "" && (len(edes) != 1 || !strings.Contains(edes[0], tc.wantEDE)):
		t.Errorf("EDE = %q, want one containing %q", edes, tc.wantEDE)
	}
}

const (
	blobSOA  = "privatelink.blob.core.windows.net. 10 IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10"
	vaultSOA = "privatelink.vaultcore.azure.net. 10 IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10"
	pubSOA   = "core.windows.net. 3600 IN SOA ns1-01.azure-dns.com. azuredns-hostmaster.microsoft.com. 1 3600 300 2419200 300"
)

func TestResolvePrivateAndPublic(t *testing.T) {
	w := newWorld(t, true)
	A, AAAA, TXT := dns.TypeA, dns.TypeAAAA, dns.TypeTXT
	cases := []resolveCase{
		{name: "R5 own account through the public CNAME answers the private IP", from: w.bob,
			qname: "contoso.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net.",
				"contoso.privatelink.blob.core.windows.net. 10 IN A 10.1.0.5"}},
		{name: "R3a privatelink name asked directly", from: w.bob,
			qname: "CONTOSO.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"contoso.privatelink.blob.core.windows.net. 10 IN A 10.1.0.5"}},
		{name: "R4 Default: other org's account is NXDOMAIN with the private SOA and EDE", from: w.bob,
			qname: "fabrikam.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeNameError,
			wantAnswer: []string{"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net."},
			wantNs:     []string{blobSOA},
			wantEDE:    "privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link bob-link, Default)"},
		{name: "R4 NxDomainRedirect: other org's account gets the full public chain", from: w.alice,
			qname: "fabrikam.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net.",
				"fabrikam.privatelink.blob.core.windows.net. 60 IN CNAME blob.xyz01prdstr02a.store.core.windows.net.",
				"blob.xyz01prdstr02a.store.core.windows.net. 60 IN A 20.60.2.2"},
			wantEDE: "privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link alice-link, NxDomainRedirect)"},
		{name: "R4 NxDomainRedirect: own account still answers privately", from: w.alice,
			qname: "contoso.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net.",
				"contoso.privatelink.blob.core.windows.net. 10 IN A 10.1.0.5"}},
		{name: "R3c AAAA NODATA never falls back", from: w.alice,
			qname: "contoso.blob.core.windows.net", qtype: AAAA, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net."},
			wantNs:     []string{blobSOA}},
		{name: "R4 TXT is not a fallback type: NXDOMAIN under NxDomainRedirect", from: w.alice,
			qname: "fabrikam.privatelink.blob.core.windows.net", qtype: TXT, wantRcode: dns.RcodeNameError,
			wantNs: []string{blobSOA}, wantEDE: "privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link alice-link, NxDomainRedirect)"},
		{name: "R4 fallback that ends in a public NXDOMAIN keeps the public rcode and SOA", from: w.alice,
			qname: "gone.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeNameError,
			wantAnswer: []string{"gone.blob.core.windows.net. 60 IN CNAME gone.privatelink.blob.core.windows.net."},
			wantNs:     []string{pubSOA},
			wantEDE:    "NxDomainRedirect"},
		{name: "R5 vault CNAME crosses into another suffix", from: w.bob,
			qname: "kv1.vault.azure.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"kv1.vault.azure.net. 60 IN CNAME kv1.privatelink.vaultcore.azure.net.",
				"kv1.privatelink.vaultcore.azure.net. 10 IN A 10.1.0.7"}},
		{name: "R2 a zone linked to one network is invisible to another", from: w.cat,
			qname: "kv1.vault.azure.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"kv1.vault.azure.net. 60 IN CNAME kv1.privatelink.vaultcore.azure.net.",
				"kv1.privatelink.vaultcore.azure.net. 60 IN CNAME data-prod-weu.vaultcore.azure.net.",
				"data-prod-weu.vaultcore.azure.net. 60 IN A 52.1.1.1"}},
		{name: "R2 child zone wins over its linked parent", from: w.bob,
			qname: "www.dev.corp.example", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"www.dev.corp.example. 300 IN A 10.3.0.1"}},
		{name: "R2 parent zone answers outside the child", from: w.bob,
			qname: "www.corp.example", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"www.corp.example. 300 IN A 10.2.0.1"}},
		{name: "R2 a name missing in the child does not fall through to the parent", from: w.bob,
			qname: "app.dev.corp.example", qtype: A, wantRcode: dns.RcodeNameError,
			wantNs:  []string{"dev.corp.example. 10 IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10"},
			wantEDE: "link bob-dev, Default"},
		{name: "R2 a linked zone shadows a forwarding rule for the same namespace", from: w.bob,
			qname: "fabrikam.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeNameError,
			wantNs: []string{blobSOA}, wantEDE: "link bob-link, Default"},
		{name: "R6 the rule answers where no zone is linked", from: w.cat,
			qname: "contoso.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"contoso.privatelink.blob.core.windows.net. 300 IN A 10.10.6.6"}},
		{name: "R6 a disabled rule is not used", from: w.bob,
			qname: "disabled.example", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"disabled.example. 300 IN A 192.0.2.80"}},
		{name: "R5 a public CNAME into a forwarding rule is resolved through the rule", from: w.bob,
			qname: "www.contoso.com", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"www.contoso.com. 300 IN CNAME app.corp.contoso.com.",
				"app.corp.contoso.com. 300 IN A 10.10.1.1"}},
		{name: "R6 without the rule the same chain is the public NXDOMAIN", from: w.cat,
			qname: "www.contoso.com", qtype: A, wantRcode: dns.RcodeNameError,
			wantAnswer: []string{"www.contoso.com. 300 IN CNAME app.corp.contoso.com."},
			wantNs:     []string{". 300 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 300"}},
		{name: "R3b private CNAME within the zone", from: w.bob,
			qname: "alias.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"alias.privatelink.blob.core.windows.net. 10 IN CNAME contoso.privatelink.blob.core.windows.net.",
				"contoso.privatelink.blob.core.windows.net. 10 IN A 10.1.0.5"}},
		{name: "R3b private CNAME out to the public path", from: w.bob,
			qname: "out.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"out.privatelink.blob.core.windows.net. 10 IN CNAME www.example.com.",
				"www.example.com. 300 IN A 93.184.215.14"}},
		{name: "R3a query type CNAME answers the CNAME itself", from: w.bob,
			qname: "alias.privatelink.blob.core.windows.net", qtype: dns.TypeCNAME, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"alias.privatelink.blob.core.windows.net. 10 IN CNAME contoso.privatelink.blob.core.windows.net."}},
		{name: "R4 Default applies to a private CNAME's missing target", from: w.bob,
			qname: "inside.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeNameError,
			wantAnswer: []string{"inside.privatelink.blob.core.windows.net. 10 IN CNAME nothere.privatelink.blob.core.windows.net."},
			wantNs:     []string{blobSOA}, wantEDE: "Default"},
		{name: "R3b CNAME loop is SERVFAIL", from: w.bob,
			qname: "loop1.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeServerFailure},
		{name: "R3b a chain of 12 CNAMEs is SERVFAIL", from: w.bob,
			qname: "c0.chain.example", qtype: A, wantRcode: dns.RcodeServerFailure},
		{name: "R3b a chain of 11 CNAMEs is answered", from: w.bob,
			qname: "c1.chain.example", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: chainAnswer(1, 12)},
		{name: "R6 plain public name", from: w.cat,
			qname: "www.example.com", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"www.example.com. 300 IN A 93.184.215.14"}},
		{name: "R6 public NODATA keeps the upstream SOA", from: w.cat,
			qname: "blob.bn9prdstr08a.store.core.windows.net", qtype: AAAA, wantRcode: dns.RcodeSuccess,
			wantNs: []string{pubSOA}},
		{name: "R1 listener network overrides the source address", from: w.bob, network: "vnet-alice",
			qname: "fabrikam.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net.",
				"fabrikam.privatelink.blob.core.windows.net. 60 IN CNAME blob.xyz01prdstr02a.store.core.windows.net.",
				"blob.xyz01prdstr02a.store.core.windows.net. 60 IN A 20.60.2.2"},
			wantEDE: "alice-link"},
		{name: "R1 unknown client is refused", from: netip.MustParseAddr("127.0.9.9"),
			qname: "www.example.com", qtype: A, wantRcode: dns.RcodeRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { w.check(t, tc) })
	}
}

func chainAnswer(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("c%d.chain.example. 10 IN CNAME c%d.chain.example.", i, i+1))
	}
	return append(out, fmt.Sprintf("c%d.chain.example. 10 IN A 10.9.9.9", to))
}
