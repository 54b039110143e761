//go:build !race

package metrics

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The race detector allocates on its own, so these checks skip -race builds.

func TestHotPathsDoNotAllocateOnceWarm(t *testing.T) {
	m, _ := newTestMetrics(t)
	up := m.Upstreams()
	tests := []struct {
		name string
		call func()
	}{
		{"Request", func() { m.Request("vnet-prod", "udp", dns.TypeA, dns.RcodeSuccess, time.Millisecond) }},
		{"Request OTHER type", func() { m.Request("vnet-prod", "udp", 0xff00, dns.RcodeSuccess, time.Millisecond) }},
		{"PrivateAnswer", func() { m.PrivateAnswer(blob, "prod-link", "answer") }},
		{"CNAMEIntoPrivate", func() { m.CNAMEIntoPrivate(blob) }},
		{"upstream Request", func() { up.Request("168.63.129.16:53", "NOERROR", time.Millisecond) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.call() // warm: the first call builds the series
			if n := testing.AllocsPerRun(1000, tc.call); n != 0 {
				t.Errorf("%v allocations per call, want 0", n)
			}
		})
	}
}
