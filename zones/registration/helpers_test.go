package registration

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/datadir"
)

const apex = "corp.example."

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// manualRecords are the zone's own records in the tests.
var manualRecords = []string{
	"@ 3600 IN SOA ns1 hostmaster 5 3600 300 2419200 10",
	"@ 3600 IN NS ns1",
	"ns1 3600 IN A 10.0.0.53",
	"www 3600 IN A 10.0.0.80",
	"www 3600 IN TXT \"web\"",
	"alias 3600 IN CNAME www",
	"*.wild 3600 IN A 10.0.0.99",
	"a.b 3600 IN A 10.0.0.77", // b is an empty non-terminal
}

func manual(t testing.TB, extra ...string) *zones.Zone {
	t.Helper()
	z, err := zones.Load(apex, "", append(slices.Clone(manualRecords), extra...))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is one Registry under test.
type world struct {
	t       testing.TB
	reg     *Registry
	clock   *clock
	dir     string // "" without a journal
	log     *bytes.Buffer
	changes []uint32 // serials OnChange saw
	opts    Options
}

// newWorld makes a Registry with a journal in a fresh folder, keys dhcp
// and dhcp2, expireAfter 1h and TTL 10s unless opts say otherwise.
func newWorld(t testing.TB, edit ...func(*Options)) *world {
	t.Helper()
	w := &world{t: t, clock: &clock{t: t0}, dir: t.TempDir()}
	w.opts = Options{
		Manual:   manual(t),
		Settings: Settings{TTL: 10 * time.Second, ExpireAfter: time.Hour, Keys: []string{"dhcp", "DHCP2."}},
		Now:      w.clock.Now,
	}
	for _, e := range edit {
		e(&w.opts)
	}
	w.open()
	return w
}

// open (re)opens the Registry on the world's folder.
func (w *world) open() {
	w.t.Helper()
	opts := w.opts
	var b bytes.Buffer
	w.log = &b
	log := slog.New(slog.NewTextHandler(&b, nil))
	opts.Logger = log
	opts.OnChange = func(old, new *zones.Zone) { w.changes = append(w.changes, new.SOA().Serial) }
	if w.dir != "" {
		s, err := datadir.Open(w.dir, log)
		if err != nil {
			w.t.Fatal(err)
		}
		j, err := s.OpenJournal(apex)
		if err != nil {
			w.t.Fatal(err)
		}
		opts.Journal = j
	}
	reg, err := New(opts)
	if err != nil {
		w.t.Fatal(err)
	}
	w.reg = reg
	w.t.Cleanup(func() { reg.Close() })
}

// restart closes the Registry and opens it again on the same folder.
func (w *world) restart() {
	w.t.Helper()
	w.reg.Close()
	w.open()
}

var (
	vm1   = Client(netip.MustParseAddr("10.1.0.4"))
	vm2   = Client(netip.MustParseAddr("10.1.0.5"))
	vm6   = Client(netip.MustParseAddr("fd00::4"))
	dhcp  = Key("dhcp.")
	dhcp2 = Key("dhcp2")
	other = Key("other.") // verified, but not a registration key of the zone
)

// msg builds an UPDATE for the test zone from lines "pre NAME TTL CLASS
// TYPE [RDATA]" (prerequisites) and "up NAME TTL CLASS TYPE [RDATA]"
// (updates), names relative to the zone unless they end in a dot, and
// sends it through the wire form, as the server receives it.
func msg(t testing.TB, lines ...string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetUpdate(apex)
	for _, line := range lines {
		section, spec, _ := strings.Cut(line, " ")
		rr := updateRR(t, spec)
		switch section {
		case "pre":
			m.Answer = append(m.Answer, rr)
		case "up":
			m.Ns = append(m.Ns, rr)
		default:
			t.Fatalf("line %q: section pre or up", line)
		}
	}
	return viaWire(t, m)
}

func viaWire(t testing.TB, m *dns.Msg) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v\n%v", err, m)
	}
	var out dns.Msg
	if err := out.Unpack(b); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	return &out
}

// updateRR parses "NAME TTL CLASS TYPE [RDATA]"; miekg/dns's parser takes
// neither class ANY nor empty data.
func updateRR(t testing.TB, spec string) dns.RR {
	t.Helper()
	f := strings.Fields(spec)
	if len(f) < 4 {
		t.Fatalf("record %q: NAME TTL CLASS TYPE [RDATA]", spec)
	}
	name := f[0]
	if !strings.HasSuffix(name, ".") {
		name += "." + apex
	}
	if name == "@."+apex {
		name = apex
	}
	ttl, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	class, ok := dns.StringToClass[f[2]]
	if !ok {
		class = map[string]uint16{"ANY": dns.ClassANY, "NONE": dns.ClassNONE}[f[2]]
	}
	typ, ok := dns.StringToType[f[3]]
	if !ok || class == 0 {
		t.Fatalf("record %q: class or type", spec)
	}
	h := dns.RR_Header{Name: name, Rrtype: typ, Class: class, Ttl: uint32(ttl)}
	if len(f) == 4 {
		return &dns.RFC3597{Hdr: h} // no data on the wire: unpacked, it is an empty record of its type
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, ttl, f[3], strings.Join(f[4:], " ")))
	if err != nil {
		t.Fatal(err)
	}
	rr.Header().Class = class
	return rr
}

// update sends the lines from who and checks the rcode.
func (w *world) update(who Principal, want int, lines ...string) Result {
	w.t.Helper()
	res := w.reg.Update(msg(w.t, lines...), who)
	if res.Rcode != want {
		w.t.Fatalf("update %q from %s = %s (%s), want %s", lines, who, dns.RcodeToString[res.Rcode], res.Reason, dns.RcodeToString[want])
	}
	return res
}

// served returns the served records of name and type as sorted lines.
func (w *world) served(name string, typ uint16) []string {
	res := w.reg.Current().Lookup(name+"."+apex, typ)
	if res.Kind != zones.Answer {
		return nil
	}
	var out []string
	for _, rr := range res.Records {
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}

// wantServed checks the served RRset of name and type, as zone-file
// lines (tabs or spaces).
func (w *world) wantServed(name string, typ uint16, want ...string) {
	w.t.Helper()
	got := w.served(name, typ)
	for i := range want {
		rr, err := dns.NewRR(want[i])
		if err != nil {
			w.t.Fatal(err)
		}
		want[i] = rr.String()
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		w.t.Fatalf("%s %s served = %q, want %q", name, dns.Type(typ), got, want)
	}
}

func (w *world) serial() uint32 { return w.reg.Current().SOA().Serial }

// A Kea-style DHCID (RFC 4701 identifier type 2, SHA-256), one per client.
const (
	dhcidA = "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="
	dhcidB = "AAIBxEVk5gcMuUFjmEpBDh5NTNvfBPZhZLbPyxgYN8SLtWE="
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
