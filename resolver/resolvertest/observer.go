package resolvertest

import (
	"slices"
	"sync"
	"time"
)

// Requests records the network of every request a server counts (it is a
// dnsserver.RequestObserver), for tests of what is counted where.
type Requests struct {
	mu       sync.Mutex
	networks []string
}

// Request records one request.
func (r *Requests) Request(network, _ string, _ uint16, _ int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.networks = append(r.networks, network)
}

// Networks returns the networks recorded so far, in order.
func (r *Requests) Networks() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.networks)
}
