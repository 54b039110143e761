package resolver_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
)

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

func check(t *testing.T, w *enginetest.World, tc resolveCase) {
	t.Helper()
	q := &resolver.Query{Msg: resolvertest.Query(tc.qname, tc.qtype), Client: tc.from, Network: tc.network, Proto: "udp"}
	resp, err := w.Engine.Resolve(context.Background(), q)
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
	if got, want := resolvertest.RRStrings(resp.Answer), resolvertest.ParseLines(t, tc.wantAnswer); !slices.Equal(got, want) {
		t.Errorf("answer:\n got %q\nwant %q", got, want)
	}
	if got, want := resolvertest.RRStrings(resp.Ns), resolvertest.ParseLines(t, tc.wantNs); !slices.Equal(got, want) {
		t.Errorf("authority:\n got %q\nwant %q", got, want)
	}
	edes := resolvertest.EDETexts(resp)
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
	w := enginetest.New(t, true)
	A, AAAA, TXT := dns.TypeA, dns.TypeAAAA, dns.TypeTXT
	cases := []resolveCase{
		{name: "R5 own account through the public CNAME answers the private IP", from: w.Bob,
			qname: "contoso.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net.",
				"contoso.privatelink.blob.core.windows.net. 10 IN A 10.1.0.5"}},
		{name: "R3a privatelink name asked directly", from: w.Bob,
			qname: "CONTOSO.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"contoso.privatelink.blob.core.windows.net. 10 IN A 10.1.0.5"}},
		{name: "R4 Default: other org's account is NXDOMAIN with the private SOA and EDE", from: w.Bob,
			qname: "fabrikam.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeNameError,
			wantAnswer: []string{"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net."},
			wantNs:     []string{blobSOA},
			wantEDE:    "privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link bob-link, Default)"},
		{name: "R4 NxDomainRedirect: other org's account gets the full public chain", from: w.Alice,
			qname: "fabrikam.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net.",
				"fabrikam.privatelink.blob.core.windows.net. 60 IN CNAME blob.xyz01prdstr02a.store.core.windows.net.",
				"blob.xyz01prdstr02a.store.core.windows.net. 60 IN A 20.60.2.2"},
			wantEDE: "privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link alice-link, NxDomainRedirect)"},
		{name: "R4 NxDomainRedirect: own account still answers privately", from: w.Alice,
			qname: "contoso.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net.",
				"contoso.privatelink.blob.core.windows.net. 10 IN A 10.1.0.5"}},
		{name: "R3c AAAA NODATA never falls back", from: w.Alice,
			qname: "contoso.blob.core.windows.net", qtype: AAAA, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net."},
			wantNs:     []string{blobSOA}},
		{name: "R4 TXT is not a fallback type: NXDOMAIN under NxDomainRedirect", from: w.Alice,
			qname: "fabrikam.privatelink.blob.core.windows.net", qtype: TXT, wantRcode: dns.RcodeNameError,
			wantNs: []string{blobSOA}, wantEDE: "privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link alice-link, NxDomainRedirect)"},
		{name: "R4 fallback that ends in a public NXDOMAIN keeps the public rcode and SOA", from: w.Alice,
			qname: "gone.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeNameError,
			wantAnswer: []string{"gone.blob.core.windows.net. 60 IN CNAME gone.privatelink.blob.core.windows.net."},
			wantNs:     []string{pubSOA},
			wantEDE:    "NxDomainRedirect"},
		{name: "R5 vault CNAME crosses into another suffix", from: w.Bob,
			qname: "kv1.vault.azure.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"kv1.vault.azure.net. 60 IN CNAME kv1.privatelink.vaultcore.azure.net.",
				"kv1.privatelink.vaultcore.azure.net. 10 IN A 10.1.0.7"}},
		{name: "R2 a zone linked to one network is invisible to another", from: w.Cat,
			qname: "kv1.vault.azure.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"kv1.vault.azure.net. 60 IN CNAME kv1.privatelink.vaultcore.azure.net.",
				"kv1.privatelink.vaultcore.azure.net. 60 IN CNAME data-prod-weu.vaultcore.azure.net.",
				"data-prod-weu.vaultcore.azure.net. 60 IN A 52.1.1.1"}},
		{name: "R2 child zone wins over its linked parent", from: w.Bob,
			qname: "www.dev.corp.example", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"www.dev.corp.example. 300 IN A 10.3.0.1"}},
		{name: "R2 parent zone answers outside the child", from: w.Bob,
			qname: "www.corp.example", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"www.corp.example. 300 IN A 10.2.0.1"}},
		{name: "R2 a name missing in the child does not fall through to the parent", from: w.Bob,
			qname: "app.dev.corp.example", qtype: A, wantRcode: dns.RcodeNameError,
			wantNs:  []string{"dev.corp.example. 10 IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10"},
			wantEDE: "link bob-dev, Default"},
		{name: "R2 a linked zone shadows a forwarding rule for the same namespace", from: w.Bob,
			qname: "fabrikam.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeNameError,
			wantNs: []string{blobSOA}, wantEDE: "link bob-link, Default"},
		{name: "R6 the rule answers where no zone is linked", from: w.Cat,
			qname: "contoso.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"contoso.privatelink.blob.core.windows.net. 300 IN A 10.10.6.6"}},
		{name: "R6 a disabled rule is not used", from: w.Bob,
			qname: "disabled.example", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"disabled.example. 300 IN A 192.0.2.80"}},
		{name: "R5 a public CNAME into a forwarding rule is resolved through the rule", from: w.Bob,
			qname: "www.contoso.com", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"www.contoso.com. 300 IN CNAME app.corp.contoso.com.",
				"app.corp.contoso.com. 300 IN A 10.10.1.1"}},
		{name: "R6 without the rule the same chain is the public NXDOMAIN", from: w.Cat,
			qname: "www.contoso.com", qtype: A, wantRcode: dns.RcodeNameError,
			wantAnswer: []string{"www.contoso.com. 300 IN CNAME app.corp.contoso.com."},
			wantNs:     []string{". 300 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 300"}},
		{name: "R3b private CNAME within the zone", from: w.Bob,
			qname: "alias.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"alias.privatelink.blob.core.windows.net. 10 IN CNAME contoso.privatelink.blob.core.windows.net.",
				"contoso.privatelink.blob.core.windows.net. 10 IN A 10.1.0.5"}},
		{name: "R3b private CNAME out to the public path", from: w.Bob,
			qname: "out.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{
				"out.privatelink.blob.core.windows.net. 10 IN CNAME www.example.com.",
				"www.example.com. 300 IN A 93.184.215.14"}},
		{name: "R3a query type CNAME answers the CNAME itself", from: w.Bob,
			qname: "alias.privatelink.blob.core.windows.net", qtype: dns.TypeCNAME, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"alias.privatelink.blob.core.windows.net. 10 IN CNAME contoso.privatelink.blob.core.windows.net."}},
		{name: "R4 Default applies to a private CNAME's missing target", from: w.Bob,
			qname: "inside.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeNameError,
			wantAnswer: []string{"inside.privatelink.blob.core.windows.net. 10 IN CNAME nothere.privatelink.blob.core.windows.net."},
			wantNs:     []string{blobSOA}, wantEDE: "Default"},
		{name: "R3b CNAME loop is SERVFAIL", from: w.Bob,
			qname: "loop1.privatelink.blob.core.windows.net", qtype: A, wantRcode: dns.RcodeServerFailure},
		{name: "R3b a chain of 12 CNAMEs is SERVFAIL", from: w.Bob,
			qname: "c0.chain.example", qtype: A, wantRcode: dns.RcodeServerFailure},
		{name: "R3b a chain of 11 CNAMEs is answered", from: w.Bob,
			qname: "c1.chain.example", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: chainAnswer(1, 12)},
		{name: "R6 plain public name", from: w.Cat,
			qname: "www.example.com", qtype: A, wantRcode: dns.RcodeSuccess,
			wantAnswer: []string{"www.example.com. 300 IN A 93.184.215.14"}},
		{name: "R6 public NODATA keeps the upstream SOA", from: w.Cat,
			qname: "blob.bn9prdstr08a.store.core.windows.net", qtype: AAAA, wantRcode: dns.RcodeSuccess,
			wantNs: []string{pubSOA}},
		{name: "R1 listener network overrides the source address", from: w.Bob, network: "vnet-alice",
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
		t.Run(tc.name, func(t *testing.T) { check(t, w, tc) })
	}
}

func chainAnswer(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("c%d.chain.example. 10 IN CNAME c%d.chain.example.", i, i+1))
	}
	return append(out, fmt.Sprintf("c%d.chain.example. 10 IN A 10.9.9.9", to))
}
