package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/privdns/privdns/resolver/cache"
)

var cacheNames = []string{
	"privdns_cache_hits_total", "privdns_cache_misses_total",
	"privdns_cache_entries", "privdns_cache_stale_served_total",
}

// cacheText is the exposition of the four cache metrics for s.
func cacheText(hits, misses, entries, stale string) string {
	return `
# HELP privdns_cache_entries Entries held by the cache.
# TYPE privdns_cache_entries gauge
privdns_cache_entries ` + entries + `
# HELP privdns_cache_hits_total Public queries answered from the cache (fresh entries).
# TYPE privdns_cache_hits_total counter
privdns_cache_hits_total ` + hits + `
# HELP privdns_cache_misses_total Public queries the cache sent upstream.
# TYPE privdns_cache_misses_total counter
privdns_cache_misses_total ` + misses + `
# HELP privdns_cache_stale_served_total Expired answers served while upstreams failed (RFC 8767).
# TYPE privdns_cache_stale_served_total counter
privdns_cache_stale_served_total ` + stale + `
`
}

func TestCacheStatsAreReadAtScrapeTime(t *testing.T) {
	m, reg := newTestMetrics(t)
	if n := testutil.CollectAndCount(m.cache); n != 0 {
		t.Fatalf("cache series before ObserveCache: %d, want 0", n)
	}

	stats := cache.Stats{Hits: 5, Misses: 2, Entries: 7, StaleServed: 1, Prefetches: 9}
	m.ObserveCache(func() cache.Stats { return stats })
	if err := testutil.GatherAndCompare(reg, strings.NewReader(cacheText("5", "2", "7", "1")), cacheNames...); err != nil {
		t.Errorf("first scrape: %v", err)
	}

	stats.Hits, stats.Entries = 6, 8 // the cache moved on between scrapes
	if err := testutil.GatherAndCompare(reg, strings.NewReader(cacheText("6", "2", "8", "1")), cacheNames...); err != nil {
		t.Errorf("second scrape did not read the cache again: %v", err)
	}
}

func TestObserveCacheAgainReplacesTheSource(t *testing.T) {
	m, reg := newTestMetrics(t)
	m.ObserveCache(func() cache.Stats { return cache.Stats{Hits: 100, Misses: 50, Entries: 10, StaleServed: 3} })
	m.ObserveCache(func() cache.Stats { return cache.Stats{Hits: 1, Entries: 2} }) // a reload built a new cache
	if err := testutil.GatherAndCompare(reg, strings.NewReader(cacheText("1", "0", "2", "0")), cacheNames...); err != nil {
		t.Errorf("after the second ObserveCache: %v", err)
	}

	m.ObserveCache(nil)
	if n := testutil.CollectAndCount(m.cache); n != 0 {
		t.Errorf("cache series after ObserveCache(nil): %d, want 0", n)
	}
}
