package upstream

import (
	"sync"
	"time"
)

// health tracks whether a target is worth trying. A target that fails
// threshold times in a row goes down for a back-off; when the back-off has
// passed exactly one query probes it while the others keep skipping it; a
// failed probe doubles the back-off (up to max), a success brings it up.
// A failure does not count against a target that answered another query
// while this one waited: the target is alive, and the failure speaks of
// the name (a domain whose servers are slow), not of it.
type health struct {
	threshold int
	base, max time.Duration

	mu      sync.Mutex
	fails   int
	down    bool
	until   time.Time     // end of the current back-off while down
	backoff time.Duration // length of the current back-off while down
	probing bool          // a probe is in flight
	alive   time.Time     // when the target last answered
}

// aliveSince reports whether the target answered anything after t.
func (h *health) aliveSince(t time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.alive.After(t)
}

// admit reports whether a query may try the target now and whether that
// query is the probe; a probe must be followed by exactly one report or
// release.
func (h *health) admit(now time.Time) (ok, probe bool) {
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
func (h *health) isDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down
}

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
// state (went down or came back up).
func (h *health) report(now time.Time, ok, probe bool) (changed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if probe {
		h.probing = false
	}
	if ok {
		h.alive = now
		h.fails = 0
		changed = h.down
		h.down = false
		return changed
	}
	h.fails++
	switch {
	case probe && h.down:
		h.backoff = min(2*h.backoff, h.max)
		h.until = now.Add(h.backoff)
	case !h.down && h.fails >= h.threshold:
		h.down = true
		h.backoff = h.base
		h.until = now.Add(h.backoff)
		return true
	}
	return false
}
