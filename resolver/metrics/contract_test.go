package metrics

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/privdns/privdns/resolver/cache"
)

// specNames are the metric families SPEC §5 and §6 promise, with their labels.
var specNames = map[string][]string{
	"privdns_requests_total":                               {"network", "proto", "type"},
	"privdns_responses_total":                              {"network", "rcode"},
	"privdns_request_duration_seconds":                     {"network"},
	"privdns_private_answers_total":                        {"link", "outcome", "zone"},
	"privdns_cname_into_private_total":                     {"zone"},
	"privdns_cache_hits_total":                             nil,
	"privdns_cache_misses_total":                           nil,
	"privdns_cache_entries":                                nil,
	"privdns_cache_stale_served_total":                     nil,
	"privdns_upstream_requests_total":                      {"rcode", "upstream"},
	"privdns_upstream_duration_seconds":                    {"upstream"},
	"privdns_upstream_healthy":                             {"upstream"},
	"privdns_config_reloads_total":                         {"result"},
	"privdns_config_last_reload_success_timestamp_seconds": nil,
	"privdns_limited_total":                                {"limit"}, // §6 (R11)
}

// exerciseAll moves every metric, so every family shows up in a scrape.
func exerciseAll(m *Metrics) {
	m.Request("vnet-prod", "udp", dns.TypeA, dns.RcodeSuccess, time.Millisecond)
	m.PrivateAnswer(blob, "prod-link", "answer")
	m.CNAMEIntoPrivate(blob)
	m.Upstreams().Request("168.63.129.16:53", "NOERROR", 5*time.Millisecond)
	m.Upstreams().Health("168.63.129.16:53", true)
	m.ObserveCache(func() cache.Stats { return cache.Stats{Hits: 1} })
	m.Reload(true, reloadAt)
	m.Limited("inFlight")
}

func TestEverySpecMetricIsExposedWithItsLabels(t *testing.T) {
	m, reg := newTestMetrics(t)
	exerciseAll(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		want, ok := specNames[mf.GetName()]
		if !ok {
			t.Errorf("%s is not a SPEC metric", mf.GetName())
			continue
		}
		seen[mf.GetName()] = true
		var got []string
		for _, lp := range mf.GetMetric()[0].GetLabel() {
			got = append(got, lp.GetName())
		}
		if len(got) != len(want) {
			t.Errorf("%s labels = %v, want %v", mf.GetName(), got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s labels = %v, want %v", mf.GetName(), got, want)
				break
			}
		}
	}
	for name := range specNames {
		if !seen[name] {
			t.Errorf("%s missing from the scrape", name)
		}
	}
}

func TestMetricSetPassesLint(t *testing.T) {
	m, reg := newTestMetrics(t)
	exerciseAll(m)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	// The custom cache collector on its own, as CollectAndLint sees it.
	problems, err = testutil.CollectAndLint(m.cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint cache collector: %s: %s", p.Metric, p.Text)
	}
}

func TestDurationBucketsSpan50MicrosecondsTo5Seconds(t *testing.T) {
	m, reg := newTestMetrics(t)
	for _, d := range []time.Duration{40 * time.Microsecond, 4 * time.Second, 6 * time.Second} {
		m.Request("hub", "udp", dns.TypeA, dns.RcodeSuccess, d)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "privdns_request_duration_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		b := h.GetBucket()
		first, last := b[0], b[len(b)-1]
		if first.GetUpperBound() != 50e-6 || first.GetCumulativeCount() != 1 {
			t.Errorf("first bucket le=%v count=%d, want le=5e-05 count=1", first.GetUpperBound(), first.GetCumulativeCount())
		}
		if last.GetUpperBound() != 5 || last.GetCumulativeCount() != 2 {
			t.Errorf("last bucket le=%v count=%d, want le=5 count=2", last.GetUpperBound(), last.GetCumulativeCount())
		}
		if h.GetSampleCount() != 3 {
			t.Errorf("sample count %d, want 3 (6s lands in +Inf)", h.GetSampleCount())
		}
		return
	}
	t.Fatal("privdns_request_duration_seconds not gathered")
}

func TestConcurrentRequestsAreAllCounted(t *testing.T) {
	m, reg := newTestMetrics(t)
	const workers, each = 8, 500
	networks := []string{"a", "b", "c", ""}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				m.Request(networks[(w+i)%len(networks)], "udp", dns.TypeA, dns.RcodeSuccess, time.Microsecond)
				m.PrivateAnswer(blob, networks[i%len(networks)], "answer")
			}
		})
	}
	wg.Wait()
	var requests, private float64
	for k, v := range values(t, reg) {
		switch {
		case strings.HasPrefix(k, "privdns_requests_total{"):
			requests += v
		case strings.HasPrefix(k, "privdns_private_answers_total{"):
			private += v
		}
	}
	if requests != workers*each || private != workers*each {
		t.Errorf("requests_total sums to %v, private_answers_total to %v, want %d each", requests, private, workers*each)
	}
}
