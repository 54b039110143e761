package resolver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/cache"
)

// wireSummary is everything a client sees of a reply but its ID.
func wireSummary(m *dns.Msg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s qr=%v aa=%v tc=%v rd=%v ra=%v cd=%v ad=%v\n", dns.RcodeToString[m.Rcode],
		m.Response, m.Authoritative, m.Truncated, m.RecursionDesired, m.RecursionAvailable, m.CheckingDisabled, m.AuthenticatedData)
	for _, q := range m.Question {
		fmt.Fprintf(&b, "Q %s %d %d\n", q.Name, q.Qtype, q.Qclass)
	}
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			b.WriteString(strings.ReplaceAll(rr.String(), "\t", " "))
			b.WriteString("\n")
		}
		b.WriteString("|\n")
	}
	return b.String()
}

// randomCase spells name with random upper and lower case letters.
func randomCase(r *rand.Rand, name string) string {
	b := []byte(name)
	for i, c := range b {
		if 'a' <= c && c <= 'z' && r.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestPackedAnswersAreExactlyTheAnswers(t *testing.T) {
	clock := &fixedClock{now: time.Unix(1_800_000_000, 0)}
	// Without prefetch: a prefetch refreshes the public cache in the
	// background, so even two plain listeners could differ around it.
	w, c := cachedWorldWith(t, clock, false)
	opts := HandlerOptions{Resolver: w.engine, Now: clock.Now, Settings: Settings{Identity: "packed-1", Explain: true}}
	packed := startHandler(t, opts)
	opts.NoPacked = true
	plain := startHandler(t, opts)
	h := packedHandler(t, packed)

	names := []string{
		"contoso.blob.core.windows.net", "fabrikam.blob.core.windows.net", "gone.blob.core.windows.net",
		"kv1.vault.azure.net", "www.contoso.com", "www.example.com", "contoso.privatelink.blob.core.windows.net",
		"www.dev.corp.example", "app.corp.example", "alias.privatelink.blob.core.windows.net", "nothing.example.com",
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCNAME}
	sources := []string{"127.0.1.7", "127.0.2.7", "127.0.3.7", "127.0.9.7"}
	r := rand.New(rand.NewPCG(1, 2))
	compared := 0
	for round := 0; round < 6; round++ {
		for i := 0; i < 300; i++ {
			m := new(dns.Msg)
			name := names[r.IntN(len(names))]
			if r.IntN(4) == 0 {
				name = randomCase(r, name)
			}
			m.SetQuestion(dns.Fqdn(name), types[r.IntN(len(types))])
			m.RecursionDesired = r.IntN(4) != 0
			m.CheckingDisabled = r.IntN(4) == 0
			switch r.IntN(4) {
			case 1:
				m.SetEdns0(1232, false)
			case 2:
				m.SetEdns0(4096, true)
			case 3:
				m.SetEdns0(1232, false)
				m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
			}
			src := sources[r.IntN(len(sources))]
			got := wireSummary(exchangeFrom(t, "udp", src, packed.Addr, m))
			want := wireSummary(exchangeFrom(t, "udp", src, plain.Addr, m))
			if got != want {
				t.Fatalf("round %d, %s from %s:\npacked:\n%s\nplain:\n%s", round, m.Question[0].String(), src, got, want)
			}
			compared++
		}
		// TTLs count down between rounds; some entries expire.
		clock.advance(time.Duration(r.IntN(40)) * time.Second)
	}
	if h.PackedHits() == 0 {
		t.Error("no public answer was served ready-packed: the comparison proved nothing")
	}
	t.Logf("%d replies compared; ready-packed public hits %d; public cache %+v", compared, h.PackedHits(), c.Stats())
}

func TestPackedAnswersFollowAReload(t *testing.T) {
	old := mustZone(t, "corp.example", "www 60 IN A 10.0.0.1")
	e := NewEngine(EngineOptions{View: oneNetView(t, nil, Link{Zone: old})})
	l := startHandler(t, HandlerOptions{Resolver: e})
	for i := 0; i < 3; i++ {
		if m := exchangeFrom(t, "udp", "127.0.0.5", l.Addr, query("www.corp.example", dns.TypeA)); m.Answer[0].(*dns.A).A.String() != "10.0.0.1" {
			t.Fatalf("before: %v", m.Answer)
		}
	}
	e.Swap(oneNetView(t, nil, Link{Zone: mustZone(t, "corp.example", "www 60 IN A 10.0.0.2")}))
	if m := exchangeFrom(t, "udp", "127.0.0.5", l.Addr, query("www.corp.example", dns.TypeA)); m.Answer[0].(*dns.A).A.String() != "10.0.0.2" {
		t.Fatalf("the next query after a swap got %v", m.Answer)
	}
	// Settings (identity) changes are seen too.
	l2 := startHandler(t, HandlerOptions{Resolver: e, Settings: Settings{Identity: "one"}})
	ask := func() string {
		m := query("www.corp.example", dns.TypeA)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		resp := exchangeFrom(t, "udp", "127.0.0.5", l2.Addr, m)
		for _, o := range resp.IsEdns0().Option {
			if n, ok := o.(*dns.EDNS0_NSID); ok {
				return n.Nsid
			}
		}
		return ""
	}
	ask()
	if got := ask(); got != hexString("one") {
		t.Fatalf("NSID %q", got)
	}
	packedHandler(t, l2).Configure(Settings{Identity: "two"})
	if got := ask(); got != hexString("two") {
		t.Errorf("NSID after Configure %q, want two", got)
	}
}

// packedHandler digs the Handler out of a listener started by startHandler.
func packedHandler(t *testing.T, l *Listener) *Handler {
	t.Helper()
	if l.udp == nil {
		t.Fatal("the listener has no inline UDP readers")
	}
	return l.udp.h
}

func FuzzParseQuery(f *testing.F) {
	for _, m := range []*dns.Msg{
		query("www.example.com", dns.TypeA),
		withUDPSize(query("a.b", dns.TypeTXT), 4096),
		func() *dns.Msg { m := new(dns.Msg); m.SetQuestion("x.", dns.TypeAAAA); return m }(),
	} {
		b, _ := m.Pack()
		f.Add(b)
	}
	f.Add([]byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0xC0, 12})
	// A malformed client-subnet option (family 99): Unpack rejects it, so
	// the fast parser must leave it to the full path (FORMERR).
	bad := query("www.example.com", dns.TypeA)
	bad.IsEdns0().Option = append(bad.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: dns.EDNS0SUBNET, Data: []byte{0, 99, 24, 0, 1, 2, 3}})
	b, _ := bad.Pack()
	f.Add(b)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		pq, ok := parseQuery(pkt, make([]byte, 0, 256))
		if !ok {
			return
		}
		// What the fast path accepts, the full parser must accept the same way.
		m := new(dns.Msg)
		if err := m.Unpack(pkt); err != nil {
			t.Fatalf("parseQuery accepted what Unpack rejects: %v", err)
		}
		q := m.Question[0]
		if name, _, err := dns.UnpackDomainName(pkt, 12); err != nil || name != q.Name || q.Qtype != pq.key.qtype || q.Qclass != pq.key.qclass {
			t.Fatalf("question %v, parsed %q %d %d", q, name, pq.key.qtype, pq.key.qclass)
		}
		opt := m.IsEdns0()
		if (opt != nil) != (pq.key.bits&bitEDNS != 0) || (opt != nil && opt.Do() != (pq.key.bits&bitDO != 0)) {
			t.Fatalf("EDNS %v, parsed bits %b", opt, pq.key.bits)
		}
	})
}

func TestPackedTTLsCountDownLikeTheCache(t *testing.T) {
	clock := &fixedClock{now: time.Unix(1_800_000_000, 0)}
	w, _ := cachedWorldWith(t, clock, false)
	opts := HandlerOptions{Resolver: w.engine, Now: clock.Now}
	packed := startHandler(t, opts)
	opts.NoPacked = true
	plain := startHandler(t, opts)
	// A public NODATA keeps its entry for the SOA's negative TTL (300 s)
	// while the CNAME in it has 60 s: past 60 s that TTL stays at 0.
	m := query("contoso.blob.core.windows.net", dns.TypeAAAA)
	for _, step := range []time.Duration{0, 1500 * time.Millisecond, 30 * time.Second, 29 * time.Second, 2 * time.Second, 100 * time.Second} {
		clock.advance(step)
		for i := 0; i < 2; i++ { // the second is served ready-packed
			got := wireSummary(exchangeFrom(t, "udp", "127.0.3.7", packed.Addr, m))
			want := wireSummary(exchangeFrom(t, "udp", "127.0.3.7", plain.Addr, m))
			if got != want {
				t.Fatalf("after %v:\npacked:\n%s\nplain:\n%s", step, got, want)
			}
		}
	}
}

// countingExchanger answers every A question with 192.0.2.N, N counting
// the questions asked: a changed address shows a new upstream exchange.
type countingExchanger struct{ asked atomic.Int32 }

func (e *countingExchanger) Exchange(_ context.Context, req *dns.Msg) (*dns.Msg, error) {
	n := e.asked.Add(1)
	m := new(dns.Msg)
	m.SetReply(req)
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
		A: net.IPv4(192, 0, 2, byte(n))}}
	return m, nil
}

func TestPackedAnswersGoWithTheirCacheEntry(t *testing.T) {
	clock := &fixedClock{now: time.Unix(1_800_000_000, 0)}
	c, err := cache.New(cache.Options{MaxEntries: 2, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	up := &countingExchanger{}
	e := NewEngine(EngineOptions{View: oneNetView(t, c.Wrap("upstreams", up))})
	l := startHandler(t, HandlerOptions{Resolver: e, Now: clock.Now})
	ask := func(name string) string {
		m := exchangeFrom(t, "udp", "127.0.0.5", l.Addr, query(name, dns.TypeA))
		if len(m.Answer) != 1 {
			t.Fatalf("%s: %v", name, m)
		}
		return m.Answer[0].(*dns.A).A.String()
	}
	first := ask("a.example.com")
	// The reply leaves before it is kept ready-packed: a repeat may be
	// quicker than the store, so ask until one is served packed.
	for i := 0; packedHandler(t, l).PackedHits() == 0; i++ {
		if again := ask("a.example.com"); again != first || i == 100 {
			t.Fatalf("repeat %d got %s (first %s), packed hits %d", i, again, first, packedHandler(t, l).PackedHits())
		}
	}
	ask("b.example.com")
	ask("c.example.com") // a.example.com leaves the two-entry cache
	if got := ask("a.example.com"); got == first {
		t.Errorf("after its cache entry was evicted, a.example.com still got %s from a ready-packed answer", got)
	}
	if n := up.asked.Load(); n != 4 {
		t.Errorf("upstream asked %d times, want 4 (a, b, c, then a again)", n)
	}
}
