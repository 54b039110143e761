package metrics

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// benchTypes are the query types the benchmarks rotate through, so the map
// lookup sees several keys as a real server does.
var benchTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeTXT, 0xff00}

func BenchmarkRequest(b *testing.B) {
	m, _ := newTestMetrics(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Request("vnet-prod", "udp", benchTypes[i%len(benchTypes)], dns.RcodeSuccess, 300*time.Microsecond)
		i++
	}
}

func BenchmarkRequestParallel(b *testing.B) {
	m, _ := newTestMetrics(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Request("vnet-prod", "udp", benchTypes[i%len(benchTypes)], dns.RcodeSuccess, 300*time.Microsecond)
			i++
		}
	})
}

// BenchmarkRequestWithLabelValues is the naive path Request avoids: label
// naming and vector lookups on every call. It is the baseline to beat.
func BenchmarkRequestWithLabelValues(b *testing.B) {
	m, _ := newTestMetrics(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		qt := benchTypes[i%len(benchTypes)]
		network := networkLabel("vnet-prod")
		m.requests.WithLabelValues(network, "udp", typeLabel(m.types.key(qt))).Inc()
		m.responses.WithLabelValues(network, rcodeLabel(dns.RcodeSuccess)).Inc()
		m.duration.WithLabelValues(network).Observe((300 * time.Microsecond).Seconds())
		i++
	}
}
