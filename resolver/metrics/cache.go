package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/privdns/privdns/resolver/cache"
)

// cacheCollector exports a cache's counters, read at scrape time from a
// source that ObserveCache can swap: a reload that builds a new cache points
// the same registered collector at it instead of registering a second one.
type cacheCollector struct {
	stats                        atomic.Pointer[func() cache.Stats]
	hits, misses, entries, stale *prometheus.Desc
}

var _ prometheus.Collector = (*cacheCollector)(nil)

func newCacheCollector() *cacheCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, nil, nil)
	}
	return &cacheCollector{
		hits:    desc("cache_hits_total", "Public queries answered from the cache (fresh entries)."),
		misses:  desc("cache_misses_total", "Public queries the cache sent upstream."),
		entries: desc("cache_entries", "Entries held by the cache."),
		stale:   desc("cache_stale_served_total", "Expired answers served while upstreams failed (RFC 8767)."),
	}
}

// ObserveCache makes the cache metrics read stats at every scrape, replacing
// any earlier source; nil removes the source (no cache series are exported).
// The source's counters must not go down when it changes to a new cache
// (privdns adds the old cache's totals).
func (m *Metrics) ObserveCache(stats func() cache.Stats) {
	if stats == nil {
		m.cache.stats.Store(nil)
		return
	}
	m.cache.stats.Store(&stats)
}

// Describe sends the four cache descriptors.
func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hits
	ch <- c.misses
	ch <- c.entries
	ch <- c.stale
}

// Collect reads the current source once and sends its values, or nothing
// without a source.
func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.stats.Load()
	if p == nil {
		return
	}
	s := (*p)()
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(s.Misses))
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries))
	ch <- prometheus.MustNewConstMetric(c.stale, prometheus.CounterValue, float64(s.StaleServed))
}
