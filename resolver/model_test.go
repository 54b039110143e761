package resolver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
)

// TestResolveMatchesModel builds random small worlds (networks, nested
// prefixes, parent/child zones, links with both policies, forwarding rules,
// a public internet with CNAMEs into private zones, under rules, in loops
// and in long chains) and checks that the Engine answers every random
// question exactly as the reference model of model_helpers_test.go does.
// A failure names the seed; worlds are generated from it alone.
func TestResolveMatchesModel(t *testing.T) {
	const worlds, perWorld = 200, 200
	tally := &modelTally{seen: map[string]int{}}
	for seed := uint64(1); seed <= worlds && tally.failures < 10; seed++ {
		c := genModelCase(t, seed)
		engines := [2]*Engine{modelEngine(t, c.opts, ""), modelEngine(t, c.opts, c.unknown)}
		rng := rand.New(rand.NewPCG(seed, 2))
		for i := range perWorld {
			if !c.ask(t, engines, c.randomQuery(rng, i), tally) {
				break
			}
		}
	}
	t.Logf("compared %d questions in %d worlds; outcomes seen: %v", tally.compared, worlds, tally.seen)
	if tally.dupEDE > 0 {
		// R8 speaks of one EDE per explained step: a link that falls back
		// twice on one chain must not repeat its text.
		t.Errorf("%d answers carried the same EDE text twice, e.g. %s", tally.dupEDE, tally.dupExample)
	}
	for _, what := range []string{"refused", "servfail", "wildcard", "private answer", "private cname",
		"private nodata", "private nxdomain", "fallback", "cut into private", "cut into rule", "public end"} {
		if tally.seen[what] < 20 {
			t.Errorf("only %d questions went through %q: the generator no longer covers it", tally.seen[what], what)
		}
	}
}

// modelTally counts what TestResolveMatchesModel compared and saw.
type modelTally struct {
	compared, failures, dupEDE int
	seen                       map[string]int // model outcomes, once per question
	dupExample                 string
}

// ask puts q to the engine (engines[1] has unknownClients set) and to the
// model, reporting a difference; false stops this world after one.
func (c *modelCase) ask(t *testing.T, engines [2]*Engine, q modelQuery, tally *modelTally) bool {
	t.Helper()
	engine := engines[0]
	c.world.unknown = ""
	if q.welcoming {
		engine, c.world.unknown = engines[1], c.unknown
	}
	exp := c.world.expect(q.listener, q.client, q.qname, q.qtype)
	resp, err := engine.Resolve(context.Background(), &Query{
		Msg: resolvertest.Query(q.qname, q.qtype), Client: q.client, Network: q.listener, Proto: "udp"})
	tally.compared++
	for _, what := range distinct(exp.happened) {
		tally.seen[what]++
	}
	if err == nil && len(distinct(resolvertest.EDETexts(resp))) < len(resolvertest.EDETexts(resp)) {
		tally.dupEDE++
		tally.dupExample = fmt.Sprintf("seed %d %s %s %q", c.seed, q.qname, dns.TypeToString[q.qtype], resolvertest.EDETexts(resp))
	}
	diff := modelDiff(exp, resp, err, c.world.explain)
	if diff != "" {
		tally.failures++
		t.Errorf("seed %d: %s %s from %s (listener %q, unknownClients %q): %s\nengine: %v (err %v)\nworld:\n%s",
			c.seed, q.qname, dns.TypeToString[q.qtype], q.client, q.listener, c.world.unknown, diff, resp, err, c.dump.String())
	}
	return diff == ""
}

// modelQuery is one random question and how it reaches the engine.
type modelQuery struct {
	listener  string     // a listener-bound network, or ""
	client    netip.Addr // the source address
	welcoming bool       // ask the engine whose unknownClients names a network
	qname     string
	qtype     uint16
}

func (c *modelCase) randomQuery(rng *rand.Rand, i int) modelQuery {
	q := modelQuery{
		client: c.randomClient(rng),
		qname:  c.names[rng.IntN(len(c.names))],
		qtype:  []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCNAME}[rng.IntN(4)],
	}
	if rng.IntN(3) == 0 { // lean on the private zones' names
		q.qname = c.private[rng.IntN(len(c.private))]
	}
	switch i % 5 { // every world is asked all three ways
	case 0:
		q.listener = c.world.nets[rng.IntN(len(c.world.nets))].name
	case 1:
		q.welcoming = true
	}
	if rng.IntN(6) == 0 { // R2 is case-insensitive
		b := []byte(q.qname)
		for j := range b {
			if rng.IntN(2) == 0 && b[j] >= 'a' && b[j] <= 'z' {
				b[j] -= 'a' - 'A'
			}
		}
		q.qname = string(b)
	}
	return q
}

func (c *modelCase) randomClient(rng *rand.Rand) netip.Addr {
	n := c.world.nets[rng.IntN(len(c.world.nets))]
	if rng.IntN(5) == 0 || len(n.prefixes) == 0 { // often in no network at all
		return netip.AddrFrom4([4]byte{127, byte(1 + rng.IntN(4)), byte(rng.IntN(5)), byte(1 + rng.IntN(254))})
	}
	p := n.prefixes[rng.IntN(len(n.prefixes))]
	a := p.Addr().As4()
	for j := p.Bits() / 8; j < 4; j++ {
		a[j] = byte(rng.IntN(256))
	}
	return netip.AddrFrom4(a)
}

func modelEngine(t *testing.T, opts ViewOptions, unknown string) *Engine {
	t.Helper()
	opts.UnknownClients = unknown
	v, err := NewView(opts)
	if err != nil {
		t.Fatalf("NewView: %v", err)
	}
	return NewEngine(EngineOptions{View: v})
}

// modelCase is one generated world: the engine's options, the model's
// view of the same data, and the names worth asking about.
type modelCase struct {
	seed    uint64
	world   *modelWorld
	opts    ViewOptions
	unknown string   // the network named by unknownClients in the second engine
	names   []string // every owner and target in the data, plus missing names
	private []string // the names among them under a pool zone
	dump    strings.Builder
}

func genModelCase(t *testing.T, seed uint64) *modelCase {
	t.Helper()
	g := &modelGen{rng: rand.New(rand.NewPCG(seed, 1)), names: map[string]bool{}}
	c := &modelCase{seed: seed, world: &modelWorld{links: map[string][]modelLink{}, explain: g.rng.IntN(8) != 0}}
	c.opts.Explain = c.world.explain
	g.networks(c)
	g.zonesAndLinks(t, c)
	g.forwardingRules(c)
	pub := g.records(c, "public", g.publicRecords())
	c.world.public = pub
	c.opts.Default = pub
	c.unknown = c.world.nets[g.rng.IntN(len(c.world.nets))].name
	for _, u := range modelUniverse() {
		g.names[u] = true
		if g.rng.IntN(8) == 0 {
			g.names["zz."+u] = true
		}
	}
	c.names = slices.Sorted(func(yield func(string) bool) {
		for n := range g.names {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range c.names {
		if slices.ContainsFunc(modelZonePool, func(z string) bool { return modelUnder(n, z) }) {
			c.private = append(c.private, n)
		}
	}
	fmt.Fprintf(&c.dump, "explain %v, unknownClients network %s\n", c.world.explain, c.unknown)
	return c
}

// records parses generated lines into a Public, noting every name.
func (g *modelGen) records(c *modelCase, label string, lines []string) *resolvertest.Public {
	fmt.Fprintf(&c.dump, "%s:\n  %s\n", label, strings.Join(lines, "\n  "))
	g.noteNames(lines)
	return resolvertest.MustPublic(lines...)
}

func (g *modelGen) noteNames(lines []string) {
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			panic(fmt.Sprintf("generated a bad record %q: %v", l, err))
		}
		g.names[strings.ToLower(rr.Header().Name)] = true
		if cn, ok := rr.(*dns.CNAME); ok {
			g.names[strings.ToLower(cn.Target)] = true
		}
	}
}

// The name pools: parent/child zones, rules on the same namespaces as
// zones, and public names around them.
var (
	modelZonePool = []string{"p.example.", "sub.p.example.", "privatelink.blob.example.", "privatelink.vault.example."}
	modelRulePool = []string{".", "corp.example.", "p.example.", "sub.p.example.", "privatelink.blob.example.", "blob.example."}
	modelSuffixes = append(slices.Clone(modelZonePool), "blob.example.", "vault.example.", "corp.example.", "store.example.", "example.", "other.test.")
	modelLabelSet = []string{"a", "b", "www", "acct", "app", "deep.ent"}
)

// modelUniverse is every pool name and every label under each of them.
func modelUniverse() []string {
	var out []string
	for _, s := range modelSuffixes {
		out = append(out, s)
		for _, l := range modelLabelSet {
			out = append(out, l+"."+s)
		}
	}
	return out
}

// modelGen draws one world from its random source.
type modelGen struct {
	rng   *rand.Rand
	names map[string]bool // names worth asking about
}

func (g *modelGen) pick(from []string) string { return from[g.rng.IntN(len(from))] }

func (g *modelGen) networks(c *modelCase) {
	used := map[netip.Prefix]bool{}
	for i := range 2 + g.rng.IntN(3) {
		n := modelNet{name: fmt.Sprintf("net%d", i)}
		for range 1 + g.rng.IntN(2) {
			a, b := byte(1+g.rng.IntN(3)), byte(g.rng.IntN(4))
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{127, a, b, 0}), 24)
			switch r := g.rng.IntN(10); { // nested prefixes exercise the longest match
			case r == 0:
				p = netip.MustParsePrefix("127.0.0.0/8")
			case r < 4:
				p = netip.PrefixFrom(netip.AddrFrom4([4]byte{127, a, 0, 0}), 16)
			}
			if !used[p] {
				used[p] = true
				n.prefixes = append(n.prefixes, p)
			}
		}
		c.world.nets = append(c.world.nets, n)
		c.opts.Networks = append(c.opts.Networks, Network{Name: n.name, Prefixes: n.prefixes})
		fmt.Fprintf(&c.dump, "network %s %v\n", n.name, n.prefixes)
	}
}

func (g *modelGen) zonesAndLinks(t *testing.T, c *modelCase) {
	allTypes := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCNAME}
	for _, i := range g.rng.Perm(len(modelZonePool))[:1+g.rng.IntN(len(modelZonePool))] {
		name := modelZonePool[i]
		lines := g.zoneRecords(name)
		fmt.Fprintf(&c.dump, "zone %s:\n  %s\n", name, strings.Join(lines, "\n  "))
		g.noteNames(lines)
		mz := &modelZone{name: name, names: map[string][]dns.RR{}}
		for _, l := range lines {
			rr, _ := dns.NewRR(l)
			owner := strings.ToLower(rr.Header().Name)
			mz.names[owner] = append(mz.names[owner], rr)
		}
		zone := resolvertest.Zone(t, name, lines...)
		for _, n := range c.world.nets {
			if g.rng.IntN(5) < 2 {
				continue
			}
			ml := modelLink{name: n.name + "-" + strings.TrimSuffix(name, "."), zone: mz, redirect: g.rng.IntN(2) == 0}
			if g.rng.IntN(4) == 0 { // a custom list, not always a superset
				for _, typ := range allTypes {
					if g.rng.IntN(2) == 0 {
						ml.fallback = append(ml.fallback, typ)
					}
				}
				if ml.fallback == nil {
					ml.fallback = []uint16{allTypes[g.rng.IntN(len(allTypes))]}
				}
			}
			l := Link{Name: ml.name, Network: n.name, Zone: zone, FallbackTypes: slices.Clone(ml.fallback)}
			if ml.redirect {
				l.Policy = PolicyNxDomainRedirect
			}
			c.world.links[n.name] = append(c.world.links[n.name], ml)
			c.opts.Links = append(c.opts.Links, l)
			fmt.Fprintf(&c.dump, "link %s policy %s fallbackTypes %v\n", l.Name, l.Policy, typeNames(ml.fallback))
		}
	}
}

// zoneRecords draws a few records under zone: A, AAAA, TXT, CNAMEs into
// the zone, other zones or public names, sometimes a wildcard, never a
// CNAME at the apex or next to other data.
func (g *modelGen) zoneRecords(zone string) []string {
	var inside []string
	for _, u := range modelUniverse() {
		if u != zone && modelUnder(u, zone) {
			inside = append(inside, u)
		}
	}
	rs := g.newRecordSet()
	for range 3 + g.rng.IntN(6) {
		owner := g.pick(inside)
		switch r := g.rng.IntN(20); {
		case r < 2:
			owner = "*." + zone
		case r == 2:
			owner = "*.ent." + zone
		case r < 5:
			owner = zone
		}
		typ := g.randomType()
		if owner == zone && typ == dns.TypeCNAME {
			typ = dns.TypeTXT
		}
		target := g.pick(inside)
		if r := g.rng.IntN(10); r >= 4 {
			target = g.pick(g.under(g.pick(modelZonePool)))
			if r >= 7 {
				target = g.pick(modelUniverse())
			}
		}
		rs.add(owner, typ, g.rdata(typ, target))
	}
	return rs.lines
}

func (g *modelGen) under(domain string) []string {
	var out []string
	for _, u := range modelUniverse() {
		if modelUnder(u, domain) {
			out = append(out, u)
		}
	}
	return out
}

func (g *modelGen) randomType() uint16 {
	return []uint16{dns.TypeA, dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCNAME, dns.TypeCNAME}[g.rng.IntN(6)]
}

func (g *modelGen) rdata(typ uint16, target string) string {
	switch typ {
	case dns.TypeA:
		return fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(4), g.rng.IntN(4), 1+g.rng.IntN(4))
	case dns.TypeAAAA:
		return fmt.Sprintf("fd00::%x", 1+g.rng.IntN(8))
	case dns.TypeTXT:
		return fmt.Sprintf("\"t%d\"", g.rng.IntN(8))
	}
	return target
}

// forwardingRules draws up to two rules on distinct domains, each answered
// by its own fake with its own data, mostly under the rule's domain.
func (g *modelGen) forwardingRules(c *modelCase) {
	for k, i := range g.rng.Perm(len(modelRulePool))[:g.rng.IntN(3)] {
		domain := modelRulePool[i]
		mr := &modelRule{domain: domain, disabled: g.rng.IntN(5) == 0}
		for _, n := range c.world.nets {
			if g.rng.IntN(5) < 3 {
				mr.nets = append(mr.nets, n.name)
			}
		}
		rs, under := g.newRecordSet(), g.under(domain)
		for range 2 + g.rng.IntN(6) {
			owner := g.pick(under)
			if g.rng.IntN(4) == 0 {
				owner = g.pick(modelUniverse())
			}
			typ := g.randomType()
			rs.add(owner, typ, g.rdata(typ, g.pick(modelUniverse())))
		}
		label := fmt.Sprintf("rule %d %s networks %v disabled %v", k, domain, mr.nets, mr.disabled)
		mr.public = g.records(c, label, rs.lines)
		c.world.rules = append(c.world.rules, mr)
		c.opts.Rules = append(c.opts.Rules, Route{Name: fmt.Sprintf("rs%d/%s", k, domain), Domain: domain,
			Networks: mr.nets, Disabled: mr.disabled, Upstream: mr.public})
	}
}

// publicRecords is the public internet: Azure-style CNAMEs into the
// privatelink names, names under rule domains, loops, long chains and
// random records.
func (g *modelGen) publicRecords() []string {
	rs := g.newRecordSet()
	if g.rng.IntN(2) == 0 {
		rs.add("example.", dns.TypeSOA, "ns.example. host.example. 1 3600 300 86400 60")
	}
	for _, l := range []string{"acct", "a", "b"} {
		for _, svc := range []string{"blob", "vault"} {
			if g.rng.IntN(3) > 0 {
				rs.add(l+"."+svc+".example.", dns.TypeCNAME, l+".privatelink."+svc+".example.")
			}
			if g.rng.IntN(2) == 0 {
				rs.add(l+".privatelink."+svc+".example.", dns.TypeCNAME, l+".store.example.")
			}
		}
		rs.add(l+".store.example.", dns.TypeA, g.rdata(dns.TypeA, ""))
	}
	rs.add("to.other.test.", dns.TypeCNAME, g.pick(g.under("corp.example.")))
	if g.rng.IntN(3) == 0 {
		rs.add("loop1.other.test.", dns.TypeCNAME, "loop2.other.test.")
		rs.add("loop2.other.test.", dns.TypeCNAME, "loop1.other.test.")
	}
	if g.rng.IntN(3) == 0 { // around the 11-CNAME limit
		n := 9 + g.rng.IntN(5)
		for i := range n {
			rs.add(fmt.Sprintf("c%d.long.other.test.", i), dns.TypeCNAME, fmt.Sprintf("c%d.long.other.test.", i+1))
		}
		rs.add(fmt.Sprintf("c%d.long.other.test.", n), dns.TypeA, "192.0.2.1")
	}
	for range 6 + g.rng.IntN(10) {
		typ := g.randomType()
		rs.add(g.pick(modelUniverse()), typ, g.rdata(typ, g.pick(modelUniverse())))
	}
	return rs.lines
}

// recordSet collects zone-file lines, refusing duplicates and CNAMEs that
// would share a name with other data.
type recordSet struct {
	lines []string
	kind  map[string]bool // owner → holds a CNAME
	seen  map[string]bool
	ttl   map[string]int // owner and type → TTL, one per RRset
	rng   *rand.Rand
}

func (g *modelGen) newRecordSet() *recordSet {
	return &recordSet{kind: map[string]bool{}, seen: map[string]bool{}, ttl: map[string]int{}, rng: g.rng}
}

func (rs *recordSet) add(owner string, typ uint16, rdata string) {
	isCNAME, ok := rs.kind[owner]
	set := owner + " " + dns.TypeToString[typ]
	if rs.ttl[set] == 0 {
		rs.ttl[set] = []int{10, 60, 300}[rs.rng.IntN(3)]
	}
	line := fmt.Sprintf("%s %d IN %s %s", owner, rs.ttl[set], dns.TypeToString[typ], rdata)
	if (ok && (isCNAME || typ == dns.TypeCNAME)) || rs.seen[line] {
		return
	}
	rs.kind[owner], rs.seen[line] = typ == dns.TypeCNAME, true
	rs.lines = append(rs.lines, line)
}

func typeNames(types []uint16) []string {
	if types == nil {
		return []string{"default"}
	}
	var out []string
	for _, t := range types {
		out = append(out, dns.TypeToString[t])
	}
	return out
}
