package dnsserver

import (
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/report"
	"github.com/privdns/privdns/resolver/wire"
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
// Stale answers, failures and truncated answers are never kept, nor the
// first answer to a question (packedAnswers.again): most names asked once
// are never asked again.
// A reload brings a new View and new Settings, and with them an empty set.
//
// The set is a table of atomic pointers, four ways per bucket: a hit takes
// no lock and allocates nothing. A question goes to the bucket its hash
// names; a fifth question in a full bucket replaces one of the four.

const (
	packedBuckets = 1 << 13 // a power of two
	packedWays    = 4
)

type packedAnswer struct {
	// The question it answers.
	network string
	name    string // wire form, in the case asked: names in the reply may
	// be compressed into the question, so another spelling needs its own reply
	qtype, qclass uint16
	bits          uint8

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

func (a *packedAnswer) answers(network string, q *wire.Question) bool {
	return a.network == network && a.qtype == q.Type && a.qclass == q.Class && a.bits == q.Bits && a.name == string(q.Name)
}

// ttlPatch is a public record's TTL field: orig counted down since stored.
type ttlPatch struct {
	off    int
	orig   uint32
	stored time.Time
}

// answerSet holds the packed answers of one View and one Settings.
type answerSet struct {
	view    *resolver.View
	set     *Settings
	seed    maphash.Seed
	buckets [packedBuckets][packedWays]atomic.Pointer[packedAnswer]
	next    atomic.Uint32 // the way a store into a full bucket replaces
}

func (s *answerSet) bucket(network string, q *wire.Question) *[packedWays]atomic.Pointer[packedAnswer] {
	h := maphash.Bytes(s.seed, q.Name) ^ maphash.String(s.seed, network)*0x9E3779B97F4A7C15
	h ^= uint64(q.Type)<<24 | uint64(q.Class)<<8 | uint64(q.Bits)
	h ^= h >> 29
	return &s.buckets[h&(packedBuckets-1)]
}

// get returns the answer kept for q from network, or nil.
func (s *answerSet) get(network string, q *wire.Question) *packedAnswer {
	b := s.bucket(network, q)
	for i := range b {
		if a := b[i].Load(); a != nil && a.answers(network, q) {
			return a
		}
	}
	return nil
}

// put keeps a for q: in place of an older answer to the same question,
// else in an empty way, else in place of one of the others.
func (s *answerSet) put(q *wire.Question, a *packedAnswer) {
	b := s.bucket(a.network, q)
	empty := -1
	for i := range b {
		old := b[i].Load()
		if old != nil && old.answers(a.network, q) {
			b[i].Store(a)
			return
		}
		if old == nil && empty < 0 {
			empty = i
		}
	}
	if empty < 0 {
		empty = int(s.next.Add(1) % packedWays)
	}
	b[empty].Store(a)
}

// packedAnswers is a listener's store of ready-packed answers.
type packedAnswers struct {
	cur atomic.Pointer[answerSet]
	// seen remembers the questions answered lately, one per slot: a
	// question is kept ready-packed from its second full-path answer on,
	// so that names asked once (a cold miss each, for unique names) cost
	// nothing to pack and push no kept answer out.
	seen [seenSlots]atomic.Uint32
	hits atomic.Uint64 // hits on answers that took a public step
	// epoch counts the flushes of every answer: a reply resolved before
	// one is not kept after it (its data may be what was flushed).
	epoch atomic.Uint64
}

const seenSlots = 1 << 16 // a power of two

var seenSeed = maphash.MakeSeed()

// again reports whether q was answered before, from any network, since its
// slot last held another question, and remembers it.
func (p *packedAnswers) again(q *wire.Question) bool {
	h := maphash.Bytes(seenSeed, q.Name) ^ (uint64(q.Type)<<16|uint64(q.Class))*0x9E3779B97F4A7C15 ^ uint64(q.Bits)
	mark := uint32(h>>32) | 1 // never the empty slot's 0
	slot := &p.seen[h&(seenSlots-1)]
	if slot.Load() == mark {
		return true
	}
	slot.Store(mark)
	return false
}

// setFor returns the answer set of view and set, starting a new one when
// either changed. Concurrent callers agree on one new set.
func (p *packedAnswers) setFor(view *resolver.View, set *Settings) *answerSet {
	for {
		s := p.cur.Load()
		if s != nil && s.view == view && s.set == set {
			return s
		}
		n := &answerSet{view: view, set: set, seed: maphash.MakeSeed()}
		if p.cur.CompareAndSwap(s, n) {
			return n
		}
	}
}

// Packed answers pkt, whose question is q, into out from a ready-packed
// answer and returns the reply's length, or 0 when the request must take
// the full path (Answer).
func (h *Handler) Packed(pkt []byte, q *wire.Question, from netip.AddrPort, out []byte) int {
	if h.opts.NoPacked {
		return 0
	}
	set, view := h.set.Load(), h.opts.Engine.View()
	client := from.Addr().Unmap()
	network := view.NetworkOf(set.Network, client)
	if network == "" {
		return 0
	}
	a := h.packed.setFor(view, set).get(network, q)
	if a == nil {
		return 0
	}
	// A clock reading is a fair part of a ready-packed answer: with the
	// system clock, one serves the TTLs and the start.
	start := time.Now()
	now := start
	if !h.wall {
		now = h.opts.Now()
	}
	if (!a.expires.IsZero() && !now.Before(a.expires)) ||
		len(a.wire) > q.MaxSize || len(a.wire) > len(out) {
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
	if len(a.events) > 0 {
		obs := h.opts.Engine.Observer()
		for i := range a.events {
			switch e := &a.events[i]; {
			case e.name != "":
				obs.NXDomain(e.zone, e.network, e.link, e.name)
			case e.outcome == "":
				obs.CNAMEIntoPrivate(e.zone)
			default:
				obs.PrivateAnswer(e.zone, e.link, e.outcome)
			}
		}
	}
	h.packed.hits.Add(uint64(a.steps))
	d := time.Since(start)
	if h.opts.Observer != nil {
		h.opts.Observer.Request(network, "udp", q.Type, a.rcode, d)
	}
	if set.QueryLog && rand.Float64() < set.QuerySampling {
		name, _, _ := dns.UnpackDomainName(pkt, 12)
		h.logLine(client, "udp", network, name, q.Type, a.rcode, a.path, a.route, "", d)
	}
	return n
}

// storePacked keeps the reply just sent for q, when it may be sent again:
// an answer or NXDOMAIN, not truncated, not stale, every public step kept
// by the cache, resolved with the View and Settings still current.
func (h *Handler) storePacked(rq *request, q *wire.Question, resp *dns.Msg, msg []byte) {
	p, view := rq.pack, rq.q.View
	if p == nil || view == nil || view != h.opts.Engine.View() || rq.set != h.set.Load() || rq.q.Network == "" || rq.epoch != h.packed.epoch.Load() ||
		resp.Truncated || (resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError) || isStale(resp) ||
		len(p.rrs) != len(resp.Answer)+len(resp.Ns) || (p.steps > 0 && !p.kept) {
		return
	}
	path := rq.q.Path
	if path == "public" {
		path = "cache"
	}
	a := &packedAnswer{network: rq.q.Network, name: string(q.Name), qtype: q.Type, qclass: q.Class, bits: q.Bits,
		wire: append([]byte(nil), msg...), expires: p.until, deps: p.deps, events: p.events,
		rcode: resp.Rcode, steps: p.steps, path: path, route: rq.q.Route}
	offs, ok := wire.TTLOffsets(a.wire, len(p.rrs))
	if !ok {
		return
	}
	for i, off := range offs {
		if o := p.rrs[i]; o.public {
			a.ttls = append(a.ttls, ttlPatch{off, o.orig, o.stored})
		}
	}
	h.packed.setFor(view, rq.set).put(q, a)
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
