package resolver

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// Ready-packed answers: a UDP listener keeps the wire form of the answers
// it sent, keyed by network, question and the request bits that shape the
// reply, for one View and one set of handler Settings. A repeated question
// (spelt the same way) is answered by copying the bytes and patching the
// ID, the RD bit and the TTLs of public records, which count down; private
// records keep their configured TTL (R3a). An entry lives as long as the
// public cache behind it would answer the same: while the cache holds the
// entries it came from, and until they expire or their prefetch window
// opens, so that the cache still sees the hits that trigger prefetch.
// Stale answers, failures and truncated answers are never kept.
// A reload brings a new View and new Settings, and with them an empty set.

// maxPackedAnswers bounds the ready-packed answers of one listener.
const maxPackedAnswers = 10000

// packInfo is what a resolution tells the packer: which records are
// public, whether any step was, and the metric events to replay on hits.
type packInfo struct {
	rrs    []rrOrigin // per answer record, then per authority record
	steps  int        // public steps taken
	kept   bool       // every public step's answer is kept by the cache
	until  time.Time  // the earliest Until of those answers
	deps   []report.Freshness
	fresh  report.Freshness // the current exchange's, as the cache reported it
	events []event
}

// rrOrigin says how a record's TTL runs: a public record's counts down from
// orig at stored, as the cache counts it (whole seconds); a private one's
// stays.
type rrOrigin struct {
	public bool
	stored time.Time
	orig   uint32
}

// publicStep starts noting a public exchange.
func (p *packInfo) publicStep() {
	if p.steps == 0 {
		p.kept = true
	}
	p.steps++
}

// answered notes the Freshness of the exchange just made.
func (p *packInfo) answered(f report.Freshness) {
	p.fresh = f
	if !p.fresh.Kept {
		p.kept = false
		return
	}
	if p.until.IsZero() || p.fresh.Until.Before(p.until) {
		p.until = p.fresh.Until
	}
	p.deps = append(p.deps, p.fresh)
}

// record notes where rr came from: public ones from the current exchange.
func (p *packInfo) record(public bool, rr dns.RR) {
	o := rrOrigin{public: public}
	if public {
		o.stored, o.orig = p.fresh.Stored, rr.Header().Ttl+p.fresh.Age
	}
	p.rrs = append(p.rrs, o)
}

type event struct {
	zone, link, outcome string // outcome "" for a CNAME into the zone
}

// eventRecorder passes events on and keeps them for replay.
type eventRecorder struct {
	Observer
	p *packInfo
}

func (r eventRecorder) PrivateAnswer(zone, link, outcome string) {
	r.p.events = append(r.p.events, event{zone, link, outcome})
	r.Observer.PrivateAnswer(zone, link, outcome)
}

func (r eventRecorder) CNAMEIntoPrivate(zone string) {
	r.p.events = append(r.p.events, event{zone: zone})
	r.Observer.CNAMEIntoPrivate(zone)
}

type answerKey struct {
	network string
	name    string // wire form, in the case asked: names in the reply may
	// be compressed into the question, so another spelling needs its own reply
	qtype  uint16
	qclass uint16
	bits   uint8 // see request bits
}

const (
	bitCD uint8 = 1 << iota
	bitDO
	bitEDNS
	bitNSID
)

type packedAnswer struct {
	wire    []byte
	expires time.Time          // zero: until the View changes
	deps    []report.Freshness // the cache entries of its public steps
	ttls    []ttlPatch
	events  []event
	rcode   int
	steps   int    // public steps: cache hits the public cache does not see
	path    string // for the query log
	route   string
}

// ttlPatch is a public record's TTL field: orig counted down since stored.
type ttlPatch struct {
	off    int
	orig   uint32
	stored time.Time
}

// answerSet holds the packed answers of one View and one Settings.
type answerSet struct {
	view *View
	set  *Settings
	mu   sync.Mutex
	lru  *simplelru.LRU[answerKey, *packedAnswer]
}

// packedAnswers is a listener's store of ready-packed answers.
type packedAnswers struct {
	cur  atomic.Pointer[answerSet]
	hits atomic.Uint64 // hits on answers that took a public step
}

// setFor returns the answer set of view and set, starting a new one when
// either changed.
func (p *packedAnswers) setFor(view *View, set *Settings) *answerSet {
	if s := p.cur.Load(); s != nil && s.view == view && s.set == set {
		return s
	}
	lru, _ := simplelru.NewLRU[answerKey, *packedAnswer](maxPackedAnswers, nil)
	s := &answerSet{view: view, set: set, lru: lru}
	p.cur.Store(s)
	return s
}

func (s *answerSet) get(k answerKey) *packedAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _ := s.lru.Get(k)
	return a
}

func (s *answerSet) put(k answerKey, a *packedAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lru.Add(k, a)
}

// answerPacked answers pkt into out from a ready-packed answer and returns
// the reply's length, or 0 when the request must take the full path.
func (h *Handler) answerPacked(pkt []byte, pq *parsedQuery, from netip.AddrPort, out []byte) int {
	eng, ok := h.opts.Resolver.(*Engine)
	if !ok {
		return 0
	}
	start, now := time.Now(), h.opts.Now()
	set, view := h.set.Load(), eng.View()
	client := from.Addr().Unmap()
	nv, _ := view.network(set.Network, client)
	if nv == nil {
		return 0
	}
	pq.key.network = nv.name
	a := h.packed.setFor(view, set).get(pq.key)
	if a == nil || (!a.expires.IsZero() && !now.Before(a.expires)) || len(a.wire) > pq.maxSize || len(a.wire) > len(out) {
		return 0
	}
	for i := range a.deps {
		if !a.deps[i].Current() {
			return 0 // evicted or replaced: the cache decides again
		}
	}
	n := copy(out, a.wire)
	out[0], out[1] = pkt[0], pkt[1]     // ID
	out[2] = out[2]&^0x01 | pkt[2]&0x01 // RD as asked
	for _, p := range a.ttls {
		ttl := uint32(0)
		if age := now.Sub(p.stored) / time.Second; age < time.Duration(p.orig) {
			ttl = p.orig - uint32(age)
		}
		binary.BigEndian.PutUint32(out[p.off:], ttl)
	}
	for _, e := range a.events {
		if e.outcome == "" {
			eng.obs.CNAMEIntoPrivate(e.zone)
		} else {
			eng.obs.PrivateAnswer(e.zone, e.link, e.outcome)
		}
	}
	h.packed.hits.Add(uint64(a.steps))
	d := time.Since(start)
	if h.opts.Observer != nil {
		h.opts.Observer.Request(nv.name, "udp", pq.key.qtype, a.rcode, d)
	}
	if set.QueryLog && rand.Float64() < set.QuerySampling {
		name, _, _ := dns.UnpackDomainName(pkt, 12)
		h.logLine(client, "udp", nv.name, name, pq.key.qtype, a.rcode, a.path, a.route, "", d)
	}
	return n
}

// storePacked keeps the reply just sent for pq, when it may be sent again:
// an answer or NXDOMAIN, not truncated, not stale, every public step kept
// by the cache, resolved with the View and Settings still current.
func (h *Handler) storePacked(q *Query, set *Settings, pq *parsedQuery, resp *dns.Msg, wire []byte) {
	eng, ok := h.opts.Resolver.(*Engine)
	p := q.pack
	if !ok || p == nil || q.view == nil || q.view != eng.View() || set != h.set.Load() || q.Network == "" ||
		resp.Truncated || (resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError) || isStale(resp) ||
		len(p.rrs) != len(resp.Answer)+len(resp.Ns) || (p.steps > 0 && !p.kept) {
		return
	}
	path := q.Path
	if path == "public" {
		path = "cache"
	}
	a := &packedAnswer{wire: append([]byte(nil), wire...), expires: p.until, deps: p.deps, events: p.events,
		rcode: resp.Rcode, steps: p.steps, path: path, route: q.Route}
	offs, ok := ttlOffsets(a.wire, len(p.rrs))
	if !ok {
		return
	}
	for i, off := range offs {
		if o := p.rrs[i]; o.public {
			a.ttls = append(a.ttls, ttlPatch{off, o.orig, o.stored})
		}
	}
	pq.key.network = q.Network
	h.packed.setFor(q.view, set).put(pq.key, a)
}

func isStale(resp *dns.Msg) bool {
	if opt := resp.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok &&
				(e.InfoCode == dns.ExtendedErrorCodeStaleAnswer || e.InfoCode == dns.ExtendedErrorCodeStaleNXDOMAINAnswer) {
				return true
			}
		}
	}
	return false
}

// PackedHits counts the queries this handler answered from ready-packed
// answers that took a public step: cache hits the public cache never saw.
func (h *Handler) PackedHits() uint64 { return h.packed.hits.Load() }
