package upstream

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// health tracks whether a target is worth trying. A target that fails
// threshold times in a row goes down for a back-off; when the back-off has
// passed exactly one query probes it while the others keep skipping it; a
// failed probe doubles the back-off (up to max), a success brings it up.
// A timeout does not count against a target that answered another query
// while this one waited, as long as most of its recent attempts succeed:
// the target is alive, and the timeout speaks of the name (a domain whose
// servers are slow), not of it. A target that loses most of its queries is
// charged for every loss.
type health struct {
	threshold int
	base, max time.Duration

	mu      sync.Mutex
	fails   int
	down    bool
	downNow atomic.Bool   // down, for readers on the query path without mu
	until   time.Time     // end of the current back-off while down
	backoff time.Duration // length of the current back-off while down
	probing bool          // a probe is in flight
	alive   time.Time     // when the target last answered
	recent  uint64        // the last attempts, newest in bit 0: 1 = failed
	seen    int           // how many bits of recent hold attempts (at most 64)
	changes uint64        // how many times down changed

	published    sync.Mutex  // orders changes to logs and the observer
	publishedGen uint64      // the last change published
	forgotten    atomic.Bool // no longer configured: changes go unpublished
}

// Healths shares the health of upstream targets among groups: a target
// down for one route is down for every route that uses it, a group that a
// reload builds again keeps what the old one learnt, and
// privdns_upstream_healthy has one truth per target. A nil *Healths gives
// every group targets of its own.
type Healths struct {
	mu sync.Mutex
	m  map[string]*health
}

// NewHealths returns an empty registry.
func NewHealths() *Healths { return &Healths{m: map[string]*health{}} }

// get returns the health of target spec, and whether it was created now
// (with the settings given: a later group's settings for the same target
// do not change it; privdns gives every group the same).
func (hs *Healths) get(spec string, threshold int, base, max time.Duration) (h *health, created bool) {
	if hs == nil {
		return &health{threshold: threshold, base: base, max: max}, true
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if h := hs.m[spec]; h != nil {
		return h, false
	}
	h = &health{threshold: threshold, base: base, max: max}
	hs.m[spec] = h
	return h, true
}

// Forget drops the health of target spec, which is no longer configured:
// a group that still holds it (finishing old queries) no longer reports
// its changes, and a target configured again starts afresh.
func (hs *Healths) Forget(spec string) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if h := hs.m[spec]; h != nil {
		// Under published: a change being published finishes first, so
		// that no gauge comes back after the caller removed it.
		h.published.Lock()
		h.forgotten.Store(true)
		h.published.Unlock()
		delete(hs.m, spec)
	}
}

// excuse records a timeout of a query sent at sent, and reports whether it
// is the name's trouble rather than the target's: the target answered
// something after sent, and no more than a third of its recent attempts
// failed. An excused timeout is not reported.
func (h *health) excuse(sent time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.note(false)
	const minSeen = 8
	failed := bits.OnesCount64(h.recent)
	return h.alive.After(sent) && h.seen >= minSeen && 3*failed <= h.seen
}

// note shifts an attempt's outcome into recent.
func (h *health) note(ok bool) {
	h.recent <<= 1
	if !ok {
		h.recent |= 1
	}
	h.seen = min(h.seen+1, 64)
}

// admit reports whether a query may try the target now and whether that
// query is the probe; a probe must be followed by exactly one report or
// release.
func (h *health) admit(now time.Time) (ok, probe bool) {
	if !h.downNow.Load() {
		// Up: admitted without the lock. A target going down at this
		// moment lets this attempt through, as if it came a moment
		// earlier.
		return true, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		return true, false
	}
	if h.probing || now.Before(h.until) {
		return false, false
	}
	h.probing = true
	return true, true
}

// isDown reports whether the target is currently marked down.
func (h *health) isDown() bool { return h.downNow.Load() }

// release ends a probe that said nothing about the target (the caller gave
// up), so the next query may probe again.
func (h *health) release(probe bool) {
	if !probe {
		return
	}
	h.mu.Lock()
	h.probing = false
	h.mu.Unlock()
}

// report records an attempt's outcome and returns whether the target changed
// state (went down or came back up), and the number of that change.
// noted says excuse already recorded it.
func (h *health) report(now time.Time, ok, probe, noted bool) (changed bool, gen uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if probe {
		h.probing = false
	}
	if !noted {
		h.note(ok)
	}
	if ok {
		h.alive = now
		h.fails = 0
		if !h.down {
			return false, 0
		}
		h.down = false
		h.downNow.Store(false)
		h.changes++
		return true, h.changes
	}
	h.fails++
	switch {
	case probe && h.down:
		h.backoff = min(2*h.backoff, h.max)
		h.until = now.Add(h.backoff)
	case !h.down && h.fails >= h.threshold:
		h.down = true
		h.downNow.Store(true)
		h.backoff = h.base
		h.until = now.Add(h.backoff)
		h.changes++
		return true, h.changes
	}
	return false, 0
}
