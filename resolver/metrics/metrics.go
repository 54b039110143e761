package metrics

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/dnsserver"
)

// ErrNoRegisterer is returned by New without a registerer: metrics nobody can
// scrape are a wiring mistake, not a mode (pass nil observers instead).
var ErrNoRegisterer = errors.New("metrics: nil prometheus.Registerer")

// DurationBuckets are the upper bounds, in seconds, of the request and
// upstream duration histograms: from 50 µs (a private answer or a cache hit)
// to 5 s (beyond any upstream timeout worth waiting for).
var DurationBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5,
}

const namespace = "privdns"

// Compile-time checks: a *Metrics is the resolver's and the handler's observer.
var (
	_ resolver.Observer         = (*Metrics)(nil)
	_ dnsserver.RequestObserver = (*Metrics)(nil)
	_ dnsserver.LimitObserver   = (*Metrics)(nil)
)

// Metrics holds every SPEC §5 metric. Its methods are safe for concurrent
// use; Request, PrivateAnswer, CNAMEIntoPrivate and the upstream observer's
// Request do not allocate once a label set has been seen.
type Metrics struct {
	requests  *prometheus.CounterVec   // network, proto, type
	responses *prometheus.CounterVec   // network, rcode
	duration  *prometheus.HistogramVec // network
	private   *prometheus.CounterVec   // zone, link, outcome
	cnames    *prometheus.CounterVec   // zone
	upRequest *prometheus.CounterVec   // upstream, rcode
	upDur     *prometheus.HistogramVec // upstream
	upHealthy *prometheus.GaugeVec     // upstream
	reloads   *prometheus.CounterVec   // result
	limited   *prometheus.CounterVec   // limit
	lastOK    prometheus.Gauge
	cache     *cacheCollector

	reloadOK, reloadFailed prometheus.Counter

	types      *typeSet
	reqSeries  seriesMap[requestKey, requestSeries]
	privSeries seriesMap[privateKey, prometheus.Counter]
	cnameSer   seriesMap[string, prometheus.Counter]
	upSeries   seriesMap[upstreamKey, upstreamSeries]
}

// New builds the metrics and registers all of them on reg. On an error (a
// name already registered, say by a second New on the same registry) it
// unregisters what it had registered, so reg is left as it was.
func New(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, ErrNoRegisterer
	}
	m := build()
	collectors := []struct {
		name string
		c    prometheus.Collector
	}{
		{"requests_total", m.requests}, {"responses_total", m.responses},
		{"request_duration_seconds", m.duration}, {"private_answers_total", m.private},
		{"cname_into_private_total", m.cnames}, {"cache_*", m.cache},
		{"upstream_requests_total", m.upRequest}, {"upstream_duration_seconds", m.upDur},
		{"upstream_healthy", m.upHealthy}, {"config_reloads_total", m.reloads},
		{"config_last_reload_success_timestamp_seconds", m.lastOK},
		{"limited_total", m.limited},
	}
	for i, c := range collectors {
		if err := reg.Register(c.c); err != nil {
			for _, done := range collectors[:i] {
				reg.Unregister(done.c)
			}
			return nil, fmt.Errorf("metrics: registering %s_%s: %w", namespace, c.name, err)
		}
	}
	return m, nil
}

// build creates the collectors without registering them.
func build() *Metrics {
	m := &Metrics{
		requests: counterVec("requests_total",
			"DNS requests answered, by network, transport and query type.", "network", "proto", "type"),
		responses: counterVec("responses_total",
			"DNS responses sent, by network and rcode.", "network", "rcode"),
		duration: histogramVec("request_duration_seconds",
			"Time from receiving a request to writing its response.", "network"),
		private: counterVec("private_answers_total",
			"Private zone outcomes (answer, nodata, nxdomain, fallback), by zone and link.", "zone", "link", "outcome"),
		cnames: counterVec("cname_into_private_total",
			"Public CNAME chains cut at a linked private zone (R5), by zone.", "zone"),
		upRequest: counterVec("upstream_requests_total",
			"Attempts sent to upstream targets, by target and reply rcode, timeout or error.", "upstream", "rcode"),
		upDur: histogramVec("upstream_duration_seconds",
			"Duration of one attempt against an upstream target.", "upstream"),
		upHealthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "upstream_healthy",
			Help: "Whether an upstream target is in use (1) or skipped after failures (0).",
		}, []string{"upstream"}),
		reloads: counterVec("config_reloads_total",
			"Configuration reloads, by result (success or failure).", "result"),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last configuration load that was swapped in.",
		}),
		limited: counterVec("limited_total",
			"Queries that reached a limit of server.limits or server.rateLimit (R11), by the limit's key.", "limit"),
		cache: newCacheCollector(),
		types: newTypeSet(),
	}
	// Every limit exists from the start, so alerts see a zero.
	for _, l := range Limits {
		m.limited.WithLabelValues(l)
	}
	// Both results exist from the start, so failure alerts see a zero.
	m.reloadOK = m.reloads.WithLabelValues("success")
	m.reloadFailed = m.reloads.WithLabelValues("failure")
	return m
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: name, Help: help,
	}, labels)
}

func histogramVec(name, help string, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: name, Help: help, Buckets: DurationBuckets,
	}, labels)
}

// Limits are the keys privdns_limited_total counts under (R11).
var Limits = []string{"inFlight", "tcpConnections", "tcpQueriesPerConnection", "upstreamQueriesPerQuery", "rateLimit"}

// Limited counts one query (or connection) that reached limit, one of
// Limits.
func (m *Metrics) Limited(limit string) { m.limited.WithLabelValues(limit).Inc() }

// Reload counts one configuration load attempt. A successful one, swapped in
// at at, also sets the last-success timestamp; call it for the first load
// too, so the timestamp is never left at zero while serving.
func (m *Metrics) Reload(ok bool, at time.Time) {
	if !ok {
		m.reloadFailed.Inc()
		return
	}
	m.reloadOK.Inc()
	m.lastOK.Set(float64(at.UnixNano()) / 1e9)
}
