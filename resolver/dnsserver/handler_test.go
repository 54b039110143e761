package dnsserver

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/listen"
	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/resolver/upstream"
)

// startHandler serves a Handler made from opts on a listener of
// 127.0.0.1, as privdns does, until the test ends.
func startHandler(t *testing.T, opts Options) *listen.Listener {
	t.Helper()
	l, _ := startServing(t, opts)
	return l
}

// startServing is startHandler also returning the Handler.
func startServing(t *testing.T, opts Options) (*listen.Listener, *Handler) {
	t.Helper()
	h := New(opts)
	l, err := listen.Listen("127.0.0.1:0", h, listen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Shutdown(context.Background()) })
	return l, h
}

func TestHandlerResponseShape(t *testing.T) {
	w := enginetest.New(t, true)
	l := startHandler(t, Options{Engine: w.Engine, Settings: Settings{Identity: "privdns-test-1"}})

	t.Run("RA set, AA clear, question echoed as asked, EDNS answered", func(t *testing.T) {
		m := resolvertest.Query("CoNtOsO.PrivateLink.blob.core.windows.net", dns.TypeA)
		m.Id = 4242
		resp := resolvertest.ExchangeFrom(t, "udp", "127.0.1.7", l.Addr, m)
		if !resp.RecursionAvailable || resp.Authoritative || resp.Id != 4242 {
			t.Errorf("RA=%v AA=%v id=%d", resp.RecursionAvailable, resp.Authoritative, resp.Id)
		}
		if resp.Question[0].Name != "CoNtOsO.PrivateLink.blob.core.windows.net." {
			t.Errorf("question = %q", resp.Question[0].Name)
		}
		opt := resp.IsEdns0()
		if opt == nil || opt.UDPSize() != UDPSize {
			t.Fatalf("OPT = %v, want UDP size %d", opt, UDPSize)
		}
		if len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "10.1.0.5" {
			t.Errorf("answer = %v", resp.Answer)
		}
	})
	t.Run("no EDNS asked, none answered", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetQuestion("fabrikam.blob.core.windows.net.", dns.TypeA)
		resp := resolvertest.ExchangeFrom(t, "udp", "127.0.1.7", l.Addr, m)
		if resp.IsEdns0() != nil || resp.Rcode != dns.RcodeNameError {
			t.Errorf("rcode %s, OPT %v", dns.RcodeToString[resp.Rcode], resp.IsEdns0())
		}
	})
	t.Run("EDE of a Default NXDOMAIN reaches the client over UDP and TCP", func(t *testing.T) {
		for _, proto := range []string{"udp", "tcp"} {
			resp := resolvertest.ExchangeFrom(t, proto, "127.0.1.7", l.Addr, resolvertest.Query("fabrikam.blob.core.windows.net", dns.TypeA))
			texts := resolvertest.EDETexts(resp)
			if len(texts) != 1 || !strings.Contains(texts[0], "(link bob-link, Default)") {
				t.Errorf("%s: EDE = %q", proto, texts)
			}
		}
	})
	t.Run("the source address picks the network", func(t *testing.T) {
		for src, want := range map[string]int{"127.0.1.9": dns.RcodeNameError, "127.0.2.9": dns.RcodeSuccess, "127.0.9.9": dns.RcodeRefused} {
			for _, proto := range []string{"udp", "tcp"} {
				resp := resolvertest.ExchangeFrom(t, proto, src, l.Addr, resolvertest.Query("fabrikam.blob.core.windows.net", dns.TypeA))
				if resp.Rcode != want {
					t.Errorf("%s from %s: rcode %s, want %s", proto, src, dns.RcodeToString[resp.Rcode], dns.RcodeToString[want])
				}
			}
		}
	})
	t.Run("NSID answers the identity", func(t *testing.T) {
		m := resolvertest.Query("www.corp.example", dns.TypeA)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		resp := resolvertest.ExchangeFrom(t, "udp", "127.0.1.7", l.Addr, m)
		var nsid string
		for _, o := range resp.IsEdns0().Option {
			if n, ok := o.(*dns.EDNS0_NSID); ok {
				nsid = n.Nsid
			}
		}
		if nsid != hexString("privdns-test-1") {
			t.Errorf("NSID = %q", nsid)
		}
	})
	t.Run("CHAOS id.server and hostname.bind answer the identity; version.bind is refused", func(t *testing.T) {
		for name, want := range map[string]int{"id.server.": dns.RcodeSuccess, "hostname.bind.": dns.RcodeSuccess, "version.bind.": dns.RcodeRefused} {
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			resp := resolvertest.ExchangeFrom(t, "udp", "127.0.1.7", l.Addr, m)
			if resp.Rcode != want {
				t.Errorf("%s: rcode %s", name, dns.RcodeToString[resp.Rcode])
			}
			// R1: a client in no network is refused, CHAOS or not.
			if resp := resolvertest.ExchangeFrom(t, "udp", "127.0.9.9", l.Addr, m); resp.Rcode != dns.RcodeRefused {
				t.Errorf("%s from a client in no network: rcode %s", name, dns.RcodeToString[resp.Rcode])
			}
			if want == dns.RcodeSuccess && (len(resp.Answer) != 1 || resp.Answer[0].(*dns.TXT).Txt[0] != "privdns-test-1") {
				t.Errorf("%s: answer %v", name, resp.Answer)
			}
		}
	})
	t.Run("EDNS version 1 gets BADVERS", func(t *testing.T) {
		m := resolvertest.Query("www.corp.example", dns.TypeA)
		m.IsEdns0().SetVersion(1)
		resp := resolvertest.ExchangeFrom(t, "udp", "127.0.1.7", l.Addr, m)
		if resp.Rcode != dns.RcodeBadVers {
			t.Errorf("rcode %d, want BADVERS", resp.Rcode)
		}
	})
}

func TestHandlerTruncation(t *testing.T) {
	var records []string
	for i := 0; i < 40; i++ {
		records = append(records, fmt.Sprintf("big 300 IN TXT \"%02d%s\"", i, strings.Repeat("x", 60)))
	}
	big := resolvertest.Zone(t, "big.example", records...)
	view, err := resolver.NewView(resolver.ViewOptions{
		Networks: []resolver.Network{{Name: "n", Prefixes: resolvertest.Prefixes(t, "127.0.0.0/8")}},
		Links:    []resolver.Link{{Name: "l", Network: "n", Zone: big}},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := startHandler(t, Options{Engine: resolver.NewEngine(resolver.EngineOptions{View: view})})

	plain := new(dns.Msg)
	plain.SetQuestion("big.big.example.", dns.TypeTXT)
	cases := []struct {
		name    string
		proto   string
		m       *dns.Msg
		wantTC  bool
		maxSize int
	}{
		{"UDP without EDNS is cut to 512 bytes", "udp", plain, true, 512},
		{"UDP with EDNS 1232 is cut to 1232 bytes", "udp", resolvertest.Query("big.big.example", dns.TypeTXT), true, UDPSize},
		{"UDP with EDNS 4096 carries up to 4096 bytes", "udp", withUDPSize(resolvertest.Query("big.big.example", dns.TypeTXT), 4096), false, 4096},
		{"UDP with EDNS 2048 is cut to 2048 bytes", "udp", withUDPSize(resolvertest.Query("big.big.example", dns.TypeTXT), 2048), true, 2048},
		{"TCP carries the whole answer", "tcp", plain, false, 65535},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &dns.Client{Net: tc.proto, UDPSize: 65535}
			resp, _, err := c.Exchange(tc.m, l.Addr)
			if err != nil {
				t.Fatal(err)
			}
			resp.Compress = true
			packed, _ := resp.Pack()
			if resp.Truncated != tc.wantTC || len(packed) > tc.maxSize {
				t.Errorf("TC=%v size=%d, want TC=%v size<=%d", resp.Truncated, len(packed), tc.wantTC, tc.maxSize)
			}
			if !tc.wantTC && len(resp.Answer) != 40 {
				t.Errorf("answer has %d records, want 40", len(resp.Answer))
			}
		})
	}
}

func withUDPSize(m *dns.Msg, size uint16) *dns.Msg {
	m.IsEdns0().SetUDPSize(size)
	return m
}

func TestHandlerBadInput(t *testing.T) {
	w := enginetest.New(t, true)
	l := startHandler(t, Options{Engine: w.Engine})
	good := resolvertest.Query("www.corp.example", dns.TypeA)
	pkt, _ := good.Pack()

	header := func(bits uint16, qd uint16) []byte {
		b := append([]byte(nil), pkt...)
		binary.BigEndian.PutUint16(b[2:], bits)
		binary.BigEndian.PutUint16(b[4:], qd)
		return b
	}
	cases := []struct {
		name      string
		pkt       []byte
		wantRcode int // -1: no reply
	}{
		{"no question is FORMERR", header(0x0100, 0)[:12], dns.RcodeFormatError},
		{"two questions is FORMERR", header(0x0100, 2), dns.RcodeFormatError},
		{"NOTIFY for a zone privdns does not hold is NOTAUTH", header(4<<11, 1), dns.RcodeNotAuth},
		{"UPDATE from a client in no network is REFUSED (R1, R13)", header(5<<11, 1), dns.RcodeRefused},
		{"STATUS is NOTIMP", header(2<<11, 1), dns.RcodeNotImplemented},
		// The opcode is checked before QDCOUNT, and the flags of
		// non-QUERY replies stay clear (R11): RA, AD and CD.
		{"NOTIFY without a question is FORMERR", header(4<<11|0x0030, 0)[:12], dns.RcodeFormatError},
		{"an unknown opcode with two questions is NOTIMP", append(header(9<<11|0x0130, 2), pkt[12:len(pkt)-11]...), dns.RcodeNotImplemented},
		{"an unknown opcode whose counts lie is NOTIMP", header(9<<11, 3), dns.RcodeNotImplemented},
		{"a response is dropped", header(0x8100, 1), -1},
		{"a truncated question is FORMERR", header(0x0100, 1)[:12+6], dns.RcodeFormatError},
		{"a short header is dropped", pkt[:7], -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A reply may be slow on a loaded machine; silence is waited
			// for briefly, since nothing proves it but waiting.
			wait := 5 * time.Second
			if tc.wantRcode < 0 {
				wait = 300 * time.Millisecond
			}
			resp := resolvertest.RawExchange(t, l.Addr, tc.pkt, wait)
			switch {
			case tc.wantRcode < 0 && resp != nil:
				t.Errorf("got a reply %s, want none", dns.RcodeToString[resp.Rcode])
			case tc.wantRcode >= 0 && resp == nil:
				t.Errorf("no reply, want %s", dns.RcodeToString[tc.wantRcode])
			case tc.wantRcode >= 0 && resp.Rcode != tc.wantRcode:
				t.Errorf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.wantRcode])
			case tc.wantRcode >= 0 && (resp.RecursionAvailable != (resp.Opcode == dns.OpcodeQuery) || (resp.Authoritative && resp.Opcode != dns.OpcodeNotify && resp.Opcode != dns.OpcodeUpdate) || resp.Id != binary.BigEndian.Uint16(tc.pkt)):
				t.Errorf("opcode %d RA=%v AA=%v id=%d: an error reply has the R7 shape too (RA for QUERY only)", resp.Opcode, resp.RecursionAvailable, resp.Authoritative, resp.Id)
			case tc.wantRcode >= 0 && resp.Opcode != dns.OpcodeQuery && (resp.AuthenticatedData || resp.CheckingDisabled):
				t.Errorf("opcode %d AD=%v CD=%v: a non-QUERY reply carries no AD or CD (R11)", resp.Opcode, resp.AuthenticatedData, resp.CheckingDisabled)
			}
		})
	}
	// The server is still alive and answering.
	if resp := resolvertest.ExchangeFrom(t, "udp", "127.0.1.7", l.Addr, good); resp.Rcode != dns.RcodeSuccess {
		t.Errorf("after bad input: rcode %s", dns.RcodeToString[resp.Rcode])
	}
}

// panicResolver is an Engine whose every resolution panics.
type panicResolver struct{ *resolver.Engine }

func (panicResolver) Resolve(context.Context, *resolver.Query) (*dns.Msg, error) { panic("boom") }

func TestHandlerPanicIsServfail(t *testing.T) {
	l := startHandler(t, Options{Engine: panicResolver{enginetest.New(t, false).Engine}})
	for i := 0; i < 2; i++ {
		resp := resolvertest.ExchangeFrom(t, "udp", "", l.Addr, resolvertest.Query("x.example", dns.TypeA))
		if resp.Rcode != dns.RcodeServerFailure {
			t.Fatalf("rcode %s, want SERVFAIL", dns.RcodeToString[resp.Rcode])
		}
	}
}

func TestQueriesAnsweredBeforeResolutionCountUnderTheClientsNetwork(t *testing.T) {
	w := enginetest.New(t, true)
	obs := &resolvertest.Requests{}
	l := startHandler(t, Options{Engine: w.Engine, Observer: obs})
	chaos := new(dns.Msg)
	chaos.SetQuestion("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	resolvertest.ExchangeFrom(t, "udp", "127.0.2.9", l.Addr, chaos)
	axfr := resolvertest.Query("corp.example", dns.TypeAXFR)
	resolvertest.ExchangeFrom(t, "tcp", "127.0.1.9", l.Addr, axfr)
	resolvertest.ExchangeFrom(t, "udp", "127.0.9.9", l.Addr, chaos)
	if want := []string{"vnet-alice", "vnet-bob", ""}; !slices.Equal(obs.Networks(), want) {
		t.Errorf("networks %q, want %q", obs.Networks(), want)
	}
}

func TestServfailSaysWhyWhenExplaining(t *testing.T) {
	for _, explain := range []bool{true, false} {
		w := enginetest.New(t, explain) // server.explain: the View says
		l := startHandler(t, Options{Engine: w.Engine})
		loop := resolvertest.ExchangeFrom(t, "udp", "127.0.1.7", l.Addr, resolvertest.Query("loop1.privatelink.blob.core.windows.net", dns.TypeA))
		w.Public.Close() // the public path now has no answer
		dead := resolvertest.ExchangeFrom(t, "udp", "127.0.3.7", l.Addr, resolvertest.Query("nowhere.example.org", dns.TypeA))
		for name, m := range map[string]*dns.Msg{"loop": loop, "dead upstream": dead} {
			if m.Rcode != dns.RcodeServerFailure {
				t.Fatalf("%s: rcode %s", name, dns.RcodeToString[m.Rcode])
			}
			texts := resolvertest.EDETexts(m)
			if explain != (len(texts) == 1 && strings.HasPrefix(texts[0], "privdns: ")) {
				t.Errorf("%s with explain %v: EDE %q", name, explain, texts)
			}
		}
	}
}

func TestAFallbackWithoutAnswerStillExplainsItself(t *testing.T) {
	w := enginetest.New(t, true)
	l := startHandler(t, Options{Engine: w.Engine})
	w.Public.Close()
	m := resolvertest.ExchangeFrom(t, "udp", "127.0.2.7", l.Addr, resolvertest.Query("nothere.privatelink.blob.core.windows.net", dns.TypeA))
	texts := resolvertest.EDETexts(m)
	want := "privdns: NXDOMAIN from private zone privatelink.blob.core.windows.net (link alice-link, NxDomainRedirect)"
	if m.Rcode != dns.RcodeServerFailure || len(texts) != 2 || texts[0] != want || !strings.HasPrefix(texts[1], "privdns: ") {
		t.Errorf("rcode %s, EDE %q; want SERVFAIL with %q and why the public path failed", dns.RcodeToString[m.Rcode], texts, want)
	}
}

func TestUnparseableTCPQueryGetsFormerrWithRA(t *testing.T) {
	w := enginetest.New(t, true)
	l := startHandler(t, Options{Engine: w.Engine})
	conn, err := net.Dial("tcp", l.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pkt := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a', 'b'} // question cut short
	conn.Write(append([]byte{0, byte(len(pkt))}, pkt...))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, err := io.ReadAtLeast(conn, buf, 6)
	if err != nil {
		t.Fatal(err)
	}
	reply := buf[2:n]
	if reply[0] != 0x12 || reply[1] != 0x34 || reply[3]&0x0F != dns.RcodeFormatError || reply[3]&0x80 == 0 {
		t.Errorf("reply header % x: want ID 1234, FORMERR with RA", reply[:4])
	}
}

func TestAReplyWhoseOptionsAloneOverflowIsTruncated(t *testing.T) {
	w := enginetest.New(t, true)
	// A long identity (NSID) and a SERVFAIL's EDE text, on a long name.
	l := startHandler(t, Options{Engine: w.Engine, Settings: Settings{Identity: strings.Repeat("i", 200)}})
	w.Public.Close()
	long := strings.Repeat(strings.Repeat("b", 60)+".", 4) + "ex.org"
	for _, size := range []uint16{512, 520} {
		m := withUDPSize(resolvertest.Query(long, dns.TypeA), size)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		resp := resolvertest.ExchangeFrom(t, "udp", "127.0.3.7", l.Addr, m)
		resp.Compress = true
		packed, _ := resp.Pack()
		full := resolvertest.ExchangeFrom(t, "tcp", "127.0.3.7", l.Addr, m)
		full.Compress = true
		fullWire, _ := full.Pack()
		switch {
		case len(fullWire) <= int(size):
			t.Fatalf("the reply over TCP is %d bytes: the test asks nothing of a %d-byte limit", len(fullWire), size)
		case len(packed) > int(size) || !resp.Truncated:
			t.Errorf("UDP size %d: reply of %d bytes with TC=%v, want at most %d bytes with TC", size, len(packed), resp.Truncated, size)
		case len(resolvertest.EDETexts(full)) != 1:
			t.Errorf("over TCP the EDE text is lost: %v", full)
		}
	}
}

func TestAnswersOwnedByTheQueryNameAreSpeltAsAsked(t *testing.T) {
	w := enginetest.New(t, true)
	l := startHandler(t, Options{Engine: w.Engine})
	src := w.Bob.String()
	for _, tc := range []struct{ lower, mixed string }{
		{"www.corp.example.", "WwW.cOrP.ExAmPlE."},                                               // a private answer
		{"alias.privatelink.blob.core.windows.net.", "ALIAS.PrivateLink.blob.core.windows.net."}, // a private CNAME chain
		{"www.example.com.", "WWW.EXAMPLE.COM."},                                                 // a public answer
	} {
		for range 2 { // the second from the ready-packed answer
			lower := resolvertest.ExchangeFrom(t, "udp", src, l.Addr, resolvertest.Query(tc.lower, dns.TypeA))
			mixed := resolvertest.ExchangeFrom(t, "udp", src, l.Addr, resolvertest.Query(tc.mixed, dns.TypeA))
			if len(mixed.Answer) == 0 || len(mixed.Answer) != len(lower.Answer) {
				t.Fatalf("%s: %v\nvs %s: %v", tc.mixed, mixed, tc.lower, lower)
			}
			if got := mixed.Answer[0].Header().Name; got != tc.mixed {
				t.Errorf("%s: first answer owned by %s, want the name as asked", tc.mixed, got)
			}
			for i := 1; i < len(mixed.Answer); i++ { // the rest of a chain as the data spells it
				if a, b := mixed.Answer[i].Header().Name, lower.Answer[i].Header().Name; a != b {
					t.Errorf("%s: answer %d owned by %s, want %s", tc.mixed, i, a, b)
				}
			}
			// As they came. (Further names of a chain compress against
			// the question only where their case matches it.)
			mixed.Compress, lower.Compress = true, true
			if a, b := mixed.Len(), lower.Len(); a != b && len(mixed.Answer) == 1 {
				t.Errorf("%s: %d bytes, %s: %d bytes; want the same", tc.mixed, a, tc.lower, b)
			}
		}
	}
}

// SERVFAIL texts say why in general terms and never name an upstream's or
// a forwarding target's address, port or TLS name (R11); the logs keep
// those. Each SERVFAIL carries exactly one reason, with R11's code.
func TestServfailTextsNameNoUpstream(t *testing.T) {
	dead := resolvertest.StartPublic(t)
	deadAddr := dead.Addr
	dead.Close()
	_, deadPort, _ := net.SplitHostPort(deadAddr)
	group, err := upstream.NewGroup(upstream.GroupOptions{
		Targets: []string{deadAddr, "tls://127.0.0.1:1#dot.secret-resolver.example"}, Timeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer group.Close()
	v := enginetest.OneNetwork(t, group)
	l := startHandler(t, Options{Engine: resolver.NewEngine(resolver.EngineOptions{View: v})})
	m := resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", l.Addr, resolvertest.Query("www.example.org", dns.TypeA))
	if m.Rcode != dns.RcodeServerFailure {
		t.Fatalf("rcode %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	var edes []*dns.EDNS0_EDE
	for _, o := range m.IsEdns0().Option {
		if e, ok := o.(*dns.EDNS0_EDE); ok {
			edes = append(edes, e)
		}
	}
	if len(edes) != 1 || edes[0].InfoCode != dns.ExtendedErrorCodeNoReachableAuthority {
		t.Fatalf("EDE %v, want one with code 22", edes)
	}
	for _, secret := range []string{"127.0.0.1", deadPort, "secret-resolver", "tls"} {
		if strings.Contains(edes[0].ExtraText, secret) {
			t.Errorf("EDE text %q names %q", edes[0].ExtraText, secret)
		}
	}
}

// A SERVFAIL for a panic still says why, as every SERVFAIL does.
func TestAPanicsServfailCarriesAReason(t *testing.T) {
	l := startHandler(t, Options{Engine: panicResolver{enginetest.New(t, true).Engine}})
	m := resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query("x.example", dns.TypeA))
	if texts := resolvertest.EDETexts(m); m.Rcode != dns.RcodeServerFailure || len(texts) != 1 || texts[0] != "privdns: internal error" {
		t.Errorf("rcode %s, EDE %q", dns.RcodeToString[m.Rcode], texts)
	}
}

// ANY over UDP for a name that exists is one HINFO record (RFC 8482), for
// private and public names alike; a missing name keeps its NXDOMAIN; over
// TCP ANY is answered as usual (R11).
func TestANYOverUDPIsOneHINFO(t *testing.T) {
	w := enginetest.New(t, true)
	l := startHandler(t, Options{Engine: w.Engine})
	for _, name := range []string{"contoso.privatelink.blob.core.windows.net", "www.example.com", "wWw.Example.com"} {
		m := resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query(name, dns.TypeANY))
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || len(m.Ns) != 0 {
			t.Fatalf("%s over UDP: %v", name, m)
		}
		h, ok := m.Answer[0].(*dns.HINFO)
		if !ok || h.Cpu != "RFC8482" || h.Os != "" || h.Hdr.Name != dns.Fqdn(name) {
			t.Errorf("%s over UDP: answer %v, want HINFO \"RFC8482\" \"\" owned by the query name", name, m.Answer[0])
		}
	}
	if m := resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", l.Addr, resolvertest.Query("nothere.privatelink.blob.core.windows.net", dns.TypeANY)); m.Rcode != dns.RcodeNameError || len(m.Answer) != 0 {
		t.Errorf("a missing name over UDP: %v, want NXDOMAIN", m)
	}
	m := resolvertest.ExchangeFrom(t, "tcp", "127.0.1.5", l.Addr, resolvertest.Query("contoso.privatelink.blob.core.windows.net", dns.TypeANY))
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || m.Answer[0].Header().Rrtype != dns.TypeA {
		t.Errorf("ANY over TCP: %v, want the A record", m)
	}
}

type countedLimits struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countedLimits) Limited(limit string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[limit]++
}

func (c *countedLimits) count(limit string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[limit]
}

// Every upstream exchange one client query causes spends its budget
// (R11 upstreamQueriesPerQuery): here each hop of a public CNAME chain
// from an authoritative-only upstream. Beyond it: SERVFAIL, EDE 0,
// counted once.
func TestAQueryStopsAtItsUpstreamBudget(t *testing.T) {
	pub := resolvertest.MustPublic(
		"h0.example.org. 60 IN CNAME h1.example.org.", "h1.example.org. 60 IN CNAME h2.example.org.",
		"h2.example.org. 60 IN CNAME h3.example.org.", "h3.example.org. 60 IN CNAME h4.example.org.",
		"h4.example.org. 60 IN A 192.0.2.4")
	pub.Partial = true // one hop per exchange
	up := resolvertest.New(t, pub)
	group, err := upstream.NewGroup(upstream.GroupOptions{Targets: []string{up.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer group.Close()
	engine := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, group)})
	for _, c := range []struct {
		budget    int
		wantRcode int
		wantHits  int64
	}{{5, dns.RcodeSuccess, 5}, {3, dns.RcodeServerFailure, 3}} {
		limits := &countedLimits{n: map[string]int{}}
		before := up.Hits()
		l := startHandler(t, Options{Engine: engine, Settings: Settings{UpstreamBudget: c.budget}, Limits: limits})
		m := resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", l.Addr, resolvertest.Query("h0.example.org", dns.TypeA))
		if m.Rcode != c.wantRcode || up.Hits()-before != c.wantHits {
			t.Fatalf("budget %d: rcode %s after %d upstream queries, want %s after %d", c.budget,
				dns.RcodeToString[m.Rcode], up.Hits()-before, dns.RcodeToString[c.wantRcode], c.wantHits)
		}
		if c.wantRcode != dns.RcodeServerFailure {
			continue
		}
		if got := limits.count("upstreamQueriesPerQuery"); got != 1 {
			t.Errorf("budget %d: counted %d times, want once", c.budget, got)
		}
		var codes []uint16
		for _, o := range m.IsEdns0().Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				codes = append(codes, e.InfoCode)
			}
		}
		if len(codes) != 1 || codes[0] != dns.ExtendedErrorCodeOther {
			t.Errorf("budget %d: EDE codes %v, want [0]", c.budget, codes)
		}
	}
}
