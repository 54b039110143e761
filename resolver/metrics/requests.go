package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// requestKey is one label set of the request path, before naming: the raw
// network, the transport, the query type (otherType when unknown) and the
// rcode. Naming happens once per key, not once per request.
type requestKey struct {
	network, proto string
	qtype          int32
	rcode          int
}

// requestSeries are the handles one requestKey moves.
type requestSeries struct {
	requests, responses prometheus.Counter
	duration            prometheus.Observer
}

// Request counts one answered request: requests_total, responses_total and
// request_duration_seconds. It is on the query path of every request.
func (m *Metrics) Request(network, proto string, qtype uint16, rcode int, d time.Duration) {
	k := requestKey{network: network, proto: proto, qtype: m.types.key(qtype), rcode: rcode}
	s, ok := m.reqSeries.load(k)
	if !ok {
		s = m.reqSeries.add(k, func() requestSeries { return m.requestSeries(k) })
	}
	s.requests.Inc()
	s.responses.Inc()
	s.duration.Observe(d.Seconds())
}

// requestSeries names k's labels and looks up its handles.
func (m *Metrics) requestSeries(k requestKey) requestSeries {
	network := networkLabel(k.network)
	return requestSeries{
		requests:  m.requests.WithLabelValues(network, k.proto, typeLabel(k.qtype)),
		responses: m.responses.WithLabelValues(network, rcodeLabel(k.rcode)),
		duration:  m.duration.WithLabelValues(network),
	}
}

// privateKey is one label set of private_answers_total.
type privateKey struct{ zone, link, outcome string }

// PrivateAnswer counts one private outcome (R3/R4) of zone through link.
func (m *Metrics) PrivateAnswer(zone, link, outcome string) {
	k := privateKey{zone: zone, link: link, outcome: outcome}
	c, ok := m.privSeries.load(k)
	if !ok {
		c = m.privSeries.add(k, func() prometheus.Counter {
			return m.private.WithLabelValues(k.zone, k.link, k.outcome)
		})
	}
	c.Inc()
}

// CNAMEIntoPrivate counts a public CNAME chain cut at zone (R5).
func (m *Metrics) CNAMEIntoPrivate(zone string) {
	c, ok := m.cnameSer.load(zone)
	if !ok {
		c = m.cnameSer.add(zone, func() prometheus.Counter {
			return m.cnames.WithLabelValues(zone)
		})
	}
	c.Inc()
}

// NXDomain counts nothing: a query name is never a label (SPEC §5). The
// admin API's report of missing names hears these instead.
func (m *Metrics) NXDomain(zone, network, link, name string) {}
