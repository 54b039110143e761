package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/privdns/privdns/resolver/upstream"
)

// upstreamObserver adapts Metrics to upstream.Observer, whose Request has a
// different signature from the handler's.
type upstreamObserver struct{ m *Metrics }

var _ upstream.Observer = upstreamObserver{}

// upstreamKey is one label set of upstream_requests_total.
type upstreamKey struct{ target, rcode string }

// upstreamSeries are the handles one upstreamKey moves.
type upstreamSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// Upstreams returns the observer to give every upstream.Group (the default
// upstreams and each forwarding rule's targets alike); one value serves all.
func (m *Metrics) Upstreams() upstream.Observer { return upstreamObserver{m} }

// Request counts one attempt against target and its duration.
func (o upstreamObserver) Request(target, rcode string, d time.Duration) {
	k := upstreamKey{target: target, rcode: rcode}
	s, ok := o.m.upSeries.load(k)
	if !ok {
		s = o.m.upSeries.add(k, func() upstreamSeries {
			return upstreamSeries{
				requests: o.m.upRequest.WithLabelValues(k.target, k.rcode),
				duration: o.m.upDur.WithLabelValues(k.target),
			}
		})
	}
	s.requests.Inc()
	s.duration.Observe(d.Seconds())
}

// Health sets upstream_healthy for target to 1 or 0.
func (o upstreamObserver) Health(target string, healthy bool) {
	v := 0.0
	if healthy {
		v = 1
	}
	o.m.upHealthy.WithLabelValues(target).Set(v)
}

// ForgetUpstream removes target's upstream_healthy series, for a target no
// longer configured: a gauge left at its last value would claim a health
// nobody measures. Its counters stay, as counters do.
func (m *Metrics) ForgetUpstream(target string) {
	m.upHealthy.DeleteLabelValues(target)
}
