package dnsserver

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/resolver/wire"

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
	clock := resolvertest.NewClock(time.Unix(1_800_000_000, 0))
	// Without prefetch: a prefetch refreshes the public cache in the
	// background, so even two plain listeners could differ around it.
	w, c := enginetest.Cached(t, clock, false)
	opts := Options{Engine: w.Engine, Now: clock.Now, Settings: Settings{Identity: "packed-1"}}
	packed, h := startServing(t, opts)
	opts.NoPacked = true
	plain := startHandler(t, opts)

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
			got := wireSummary(resolvertest.ExchangeFrom(t, "udp", src, packed.Addr, m))
			want := wireSummary(resolvertest.ExchangeFrom(t, "udp", src, plain.Addr, m))
			if got != want {
				t.Fatalf("round %d, %s from %s:\npacked:\n%s\nplain:\n%s", round, m.Question[0].String(), src, got, want)
			}
			compared++
		}
		// TTLs count down between rounds; some entries expire.
		clock.Advance(time.Duration(r.IntN(40)) * time.Second)
	}
	if h.PackedHits() == 0 {
		t.Error("no public answer was served ready-packed: the comparison proved nothing")
	}
	t.Logf("%d replies compared; ready-packed public hits %d; public cache %+v", compared, h.PackedHits(), c.Stats())
}

// A question is kept ready-packed from its second answer on, whichever
// network asked first: unique names are never packed.
func TestAQuestionIsKeptFromItsSecondAnswer(t *testing.T) {
	w := enginetest.New(t, true)
	h := New(Options{Engine: w.Engine})
	alice, bob := netip.AddrPortFrom(w.Alice, 5300), netip.AddrPortFrom(w.Bob, 5300)
	ask := func(name string, from netip.AddrPort) bool {
		m := resolvertest.Query(name, dns.TypeA)
		pkt, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		q, _ := wire.ParseQuestion(pkt, make([]byte, 0, 255))
		_, keep := h.Answer(m, from.Addr(), "udp", false, &q)
		return keep != nil
	}
	const name = "contoso.privatelink.blob.core.windows.net."
	if ask(name, bob) {
		t.Fatal("first answer offered to be kept")
	}
	if !ask(name, alice) || !ask(name, bob) {
		t.Fatal("second and third answers not offered to be kept")
	}
	for i := range 100 {
		if ask(fmt.Sprintf("n%d.privatelink.blob.core.windows.net.", i), bob) {
			t.Fatalf("unique name %d offered to be kept", i)
		}
	}
}

func TestPackedAnswersFollowAReload(t *testing.T) {
	old := resolvertest.Zone(t, "corp.example", "www 60 IN A 10.0.0.1")
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, nil, resolver.Link{Zone: old})})
	l := startHandler(t, Options{Engine: e})
	for i := 0; i < 3; i++ {
		if m := resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", l.Addr, resolvertest.Query("www.corp.example", dns.TypeA)); m.Answer[0].(*dns.A).A.String() != "10.0.0.1" {
			t.Fatalf("before: %v", m.Answer)
		}
	}
	e.Swap(enginetest.OneNetwork(t, nil, resolver.Link{Zone: resolvertest.Zone(t, "corp.example", "www 60 IN A 10.0.0.2")}))
	if m := resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", l.Addr, resolvertest.Query("www.corp.example", dns.TypeA)); m.Answer[0].(*dns.A).A.String() != "10.0.0.2" {
		t.Fatalf("the next query after a swap got %v", m.Answer)
	}
	// Settings (identity) changes are seen too.
	l2, h2 := startServing(t, Options{Engine: e, Settings: Settings{Identity: "one"}})
	ask := func() string {
		m := resolvertest.Query("www.corp.example", dns.TypeA)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		resp := resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", l2.Addr, m)
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
	h2.Configure(Settings{Identity: "two"})
	if got := ask(); got != hexString("two") {
		t.Errorf("NSID after Configure %q, want two", got)
	}
}

func TestPackedTTLsCountDownLikeTheCache(t *testing.T) {
	clock := resolvertest.NewClock(time.Unix(1_800_000_000, 0))
	w, _ := enginetest.Cached(t, clock, false)
	opts := Options{Engine: w.Engine, Now: clock.Now}
	packed := startHandler(t, opts)
	opts.NoPacked = true
	plain := startHandler(t, opts)
	// A public NODATA keeps its entry for the SOA's negative TTL (300 s)
	// while the CNAME in it has 60 s: past 60 s that TTL stays at 0.
	m := resolvertest.Query("contoso.blob.core.windows.net", dns.TypeAAAA)
	for _, step := range []time.Duration{0, 1500 * time.Millisecond, 30 * time.Second, 29 * time.Second, 2 * time.Second, 100 * time.Second} {
		clock.Advance(step)
		for i := 0; i < 2; i++ { // the second is served ready-packed
			got := wireSummary(resolvertest.ExchangeFrom(t, "udp", "127.0.3.7", packed.Addr, m))
			want := wireSummary(resolvertest.ExchangeFrom(t, "udp", "127.0.3.7", plain.Addr, m))
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
	clock := resolvertest.NewClock(time.Unix(1_800_000_000, 0))
	c, err := cache.New(cache.Options{MaxEntries: 2, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	up := &countingExchanger{}
	e := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, c.Wrap("upstreams", up))})
	l, h := startServing(t, Options{Engine: e, Now: clock.Now})
	ask := func(name string) string {
		m := resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", l.Addr, resolvertest.Query(name, dns.TypeA))
		if len(m.Answer) != 1 {
			t.Fatalf("%s: %v", name, m)
		}
		return m.Answer[0].(*dns.A).A.String()
	}
	first := ask("a.example.com")
	// The reply leaves before it is kept ready-packed: a repeat may be
	// quicker than the store, so ask until one is served packed.
	for i := 0; h.PackedHits() == 0; i++ {
		if again := ask("a.example.com"); again != first || i == 100 {
			t.Fatalf("repeat %d got %s (first %s), packed hits %d", i, again, first, h.PackedHits())
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

// packedOnce answers m through h's full path as a UDP listener does, twice
// (a question is kept from its second answer on), keeps the second reply,
// and returns the packet and its parsed question for Packed.
func packedOnce(t testing.TB, h *Handler, m *dns.Msg, from netip.AddrPort) ([]byte, wire.Question) {
	t.Helper()
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	q, ok := wire.ParseQuestion(pkt, make([]byte, 0, 255))
	if !ok {
		t.Fatal("not a plain query")
	}
	if _, keep := h.Answer(m, from.Addr(), "udp", false, &q); keep != nil {
		t.Fatal("the first answer to a question was offered to be kept")
	}
	resp, keep := h.Answer(m, from.Addr(), "udp", false, &q)
	b, err := resp.Pack()
	if err != nil || keep == nil {
		t.Fatalf("no reply to keep: %v", err)
	}
	keep(b)
	return pkt, q
}

func TestAReadyPackedHitAllocatesNothing(t *testing.T) {
	w := enginetest.New(t, true)
	h := New(Options{Engine: w.Engine})
	from := netip.AddrPortFrom(w.Bob, 5300)
	for _, name := range []string{"contoso.privatelink.blob.core.windows.net", "nothere.privatelink.blob.core.windows.net"} {
		pkt, q := packedOnce(t, h, resolvertest.Query(name, dns.TypeA), from)
		out := make([]byte, 4096)
		if n := h.Packed(pkt, &q, from, out); n == 0 {
			t.Fatalf("%s: no ready-packed answer", name)
		}
		if allocs := testing.AllocsPerRun(200, func() { h.Packed(pkt, &q, from, out) }); allocs != 0 {
			t.Errorf("%s: %v allocations per ready-packed hit, want 0", name, allocs)
		}
	}
}

// Queries that arrive together after a reload agree on one new answer set:
// none of them stores into a set that another one replaces.
func TestConcurrentQueriesAfterAReloadShareOneAnswerSet(t *testing.T) {
	w := enginetest.New(t, true)
	h := New(Options{Engine: w.Engine})
	for round := range 50 {
		view := enginetest.OneNetwork(t, nil) // a new View: a reload
		set := h.set.Load()
		const n = 8
		got := make([]*answerSet, n)
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range n {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				got[i] = h.packed.setFor(view, set)
			}()
		}
		start.Done()
		done.Wait()
		for i := range got {
			if got[i] != got[0] || got[i] != h.packed.cur.Load() {
				t.Fatalf("round %d: query %d got answer set %p, the first %p, the current %p", round, i, got[i], got[0], h.packed.cur.Load())
			}
		}
	}
}

// BenchmarkPackedHit: a repeated question answered from its ready-packed
// reply, as a UDP reader does inline (no lock, no allocation).
func BenchmarkPackedHit(b *testing.B) {
	w := enginetest.New(b, true)
	h := New(Options{Engine: w.Engine})
	from := netip.AddrPortFrom(w.Bob, 5300)
	pkt, q := packedOnce(b, h, resolvertest.Query("contoso.privatelink.blob.core.windows.net", dns.TypeA), from)
	out := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if h.Packed(pkt, &q, from, out) == 0 {
			b.Fatal("no ready-packed answer")
		}
	}
}

// Thousands of names stay ready-packed at once: questions that hash to
// one bucket share it instead of taking turns through the full path.
func TestManyQuestionsAreKeptTogether(t *testing.T) {
	s := &answerSet{seed: maphash.MakeSeed()}
	const n = 5000
	qs := make([]wire.Question, n)
	for i := range qs {
		qs[i] = wire.Question{Name: []byte(fmt.Sprintf("\x05w%04d\x07example\x03com\x00", i)), Type: dns.TypeA, Class: dns.ClassINET}
		s.put(&qs[i], &packedAnswer{network: "n", name: string(qs[i].Name), qtype: dns.TypeA, qclass: dns.ClassINET})
	}
	found := 0
	for i := range qs {
		if a := s.get("n", &qs[i]); a != nil && a.name == string(qs[i].Name) {
			found++
		}
		if s.get("other", &qs[i]) != nil {
			t.Fatal("an answer kept for one network was found for another")
		}
	}
	if found < n*995/1000 {
		t.Errorf("%d of %d questions still kept, want at least 99.5%%", found, n)
	}
}
