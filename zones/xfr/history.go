package xfr

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// Delta is one change of a zone, as IXFR sends it (RFC 1995 §4): the
// records deleted from the version with SOA From and those added to make
// the version with SOA To. Deleted and Added hold no SOA.
type Delta struct {
	From, To       *dns.SOA
	Deleted, Added []dns.RR
}

// Diff returns what changed from old to new, SOA records left out: the
// records of old not in new and those of new not in old. Records compare
// by their whole text, TTL included, so a TTL change is a delete and an
// add.
func Diff(old, new []dns.RR) (deleted, added []dns.RR) {
	in := func(rrs []dns.RR) map[string]bool {
		m := make(map[string]bool, len(rrs))
		for _, rr := range rrs {
			m[rrKey(rr)] = true
		}
		return m
	}
	inOld, inNew := in(old), in(new)
	for _, rr := range old {
		if rr.Header().Rrtype != dns.TypeSOA && !inNew[rrKey(rr)] {
			deleted = append(deleted, rr)
		}
	}
	for _, rr := range new {
		if rr.Header().Rrtype != dns.TypeSOA && !inOld[rrKey(rr)] {
			added = append(added, rr)
		}
	}
	return deleted, added
}

// rrKey is a record's text with its owner lower-cased. It does not
// change rr, which may be a zone's, read concurrently.
func rrKey(rr dns.RR) string {
	h := rr.Header()
	return fmt.Sprintf("%s %d %d %d%s", dns.CanonicalName(h.Name), h.Ttl, h.Class, h.Rrtype, rdata(rr))
}

// RRKey is rrKey without the TTL: how IXFR deletions name a record.
func RRKey(rr dns.RR) string {
	h := rr.Header()
	return fmt.Sprintf("%s %d %d%s", dns.CanonicalName(h.Name), h.Class, h.Rrtype, rdata(rr))
}

// rdata is a record's text after its header.
func rdata(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// HistoryOptions bound a History; zero values take the defaults.
type HistoryOptions struct {
	MaxDeltas  int // deltas kept (default 32)
	MaxRecords int // records kept over all deltas (default 100000)
}

// History is the recent changes of one zone, from which IXFR answers. It
// outlives reloads (the server keeps one per zone name) and is safe for
// concurrent use: Serve reads it while a reload adds to it.
type History struct {
	mu     sync.Mutex
	opts   HistoryOptions
	deltas []Delta // oldest first, each To the next one's From
	recs   int
}

// NewHistory returns an empty history.
func NewHistory(opts HistoryOptions) *History {
	if opts.MaxDeltas <= 0 {
		opts.MaxDeltas = 32
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = 100000
	}
	return &History{opts: opts}
}

// Add records the change from old to new (nil old: nothing to record).
// A change that does not follow the last one recorded (new data not
// derived from the newest version held) starts the history afresh.
func (h *History) Add(old, new *zones.Zone) {
	if old == nil || new == nil || old.SOA().Serial == new.SOA().Serial {
		return
	}
	del, add := Diff(old.Records(), new.Records())
	h.AddDelta(Delta{From: old.SOA(), To: new.SOA(), Deleted: del, Added: add})
}

// AddDelta records a change already computed, such as one an IXFR from a
// primary delivered.
func (h *History) AddDelta(d Delta) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.deltas); n > 0 && h.deltas[n-1].To.Serial != d.From.Serial {
		h.deltas, h.recs = nil, 0
	}
	size := len(d.Deleted) + len(d.Added)
	if size > h.opts.MaxRecords {
		h.deltas, h.recs = nil, 0 // too big to keep: IXFR answers in full
		return
	}
	h.deltas = append(h.deltas, d)
	h.recs += size
	for len(h.deltas) > h.opts.MaxDeltas || h.recs > h.opts.MaxRecords {
		h.recs -= len(h.deltas[0].Deleted) + len(h.deltas[0].Added)
		h.deltas = h.deltas[1:]
	}
}

// Since returns the deltas that lead from serial from to serial to, and
// whether the history holds that whole chain.
func (h *History) Since(from, to uint32) ([]Delta, bool) {
	if h == nil {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	start := slices.IndexFunc(h.deltas, func(d Delta) bool { return d.From.Serial == from })
	if start < 0 {
		return nil, false
	}
	for i := start; i < len(h.deltas); i++ {
		if h.deltas[i].To.Serial == to {
			return slices.Clone(h.deltas[start : i+1]), true
		}
	}
	return nil, false
}
