package metrics

import (
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const blob = "privatelink.blob.core.windows.net."

// reloadAt is the time of the test reloads: 1700000000.5 seconds.
var reloadAt = time.Unix(1_700_000_000, 500_000_000)

func TestEachMethodMovesOnlyItsSeries(t *testing.T) {
	tests := []struct {
		name string
		act  func(m *Metrics)
		want map[string]float64
	}{{
		name: "request counts its type, rcode and duration under its network",
		act: func(m *Metrics) {
			m.Request("vnet-prod", "udp", dns.TypeA, dns.RcodeSuccess, 2*time.Millisecond)
		},
		want: map[string]float64{
			`privdns_requests_total{network="vnet-prod",proto="udp",type="A"}`: 1,
			`privdns_responses_total{network="vnet-prod",rcode="NOERROR"}`:     1,
			`privdns_request_duration_seconds_count{network="vnet-prod"}`:      1,
			`privdns_request_duration_seconds_sum{network="vnet-prod"}`:        0.002,
		},
	}, {
		name: "repeated requests add up on the cached series",
		act: func(m *Metrics) {
			for range 3 {
				m.Request("vnet-prod", "tcp", dns.TypeAAAA, dns.RcodeNameError, time.Millisecond)
			}
		},
		want: map[string]float64{
			`privdns_requests_total{network="vnet-prod",proto="tcp",type="AAAA"}`: 3,
			`privdns_responses_total{network="vnet-prod",rcode="NXDOMAIN"}`:       3,
			`privdns_request_duration_seconds_count{network="vnet-prod"}`:         3,
			`privdns_request_duration_seconds_sum{network="vnet-prod"}`:           0.003,
		},
	}, {
		name: "unknown query types share the OTHER type",
		act: func(m *Metrics) {
			m.Request("hub", "udp", 0xff00, dns.RcodeSuccess, time.Millisecond)
			m.Request("hub", "udp", 0xff01, dns.RcodeSuccess, time.Millisecond)
		},
		want: map[string]float64{
			`privdns_requests_total{network="hub",proto="udp",type="OTHER"}`: 2,
			`privdns_responses_total{network="hub",rcode="NOERROR"}`:         2,
			`privdns_request_duration_seconds_count{network="hub"}`:          2,
			`privdns_request_duration_seconds_sum{network="hub"}`:            0.002,
		},
	}, {
		name: "a refused unknown client is network unknown",
		act: func(m *Metrics) {
			m.Request("", "udp", dns.TypeTXT, dns.RcodeRefused, 0)
		},
		want: map[string]float64{
			`privdns_requests_total{network="unknown",proto="udp",type="TXT"}`: 1,
			`privdns_responses_total{network="unknown",rcode="REFUSED"}`:       1,
			`privdns_request_duration_seconds_count{network="unknown"}`:        1,
		},
	}, {
		name: "an rcode without a name is its number",
		act: func(m *Metrics) {
			m.Request("hub", "tcp", dns.TypeA, 4000, 0)
		},
		want: map[string]float64{
			`privdns_requests_total{network="hub",proto="tcp",type="A"}`: 1,
			`privdns_responses_total{network="hub",rcode="4000"}`:        1,
			`privdns_request_duration_seconds_count{network="hub"}`:      1,
		},
	}, {
		name: "a request without a question is type OTHER",
		act: func(m *Metrics) {
			m.Request("hub", "udp", 0, dns.RcodeFormatError, 0)
		},
		want: map[string]float64{
			`privdns_requests_total{network="hub",proto="udp",type="OTHER"}`: 1,
			`privdns_responses_total{network="hub",rcode="FORMERR"}`:         1,
			`privdns_request_duration_seconds_count{network="hub"}`:          1,
		},
	}, {
		name: "rcode 16 in a response is BADVERS",
		act: func(m *Metrics) {
			m.Request("hub", "udp", dns.TypeA, dns.RcodeBadVers, 0)
		},
		want: map[string]float64{
			`privdns_requests_total{network="hub",proto="udp",type="A"}`: 1,
			`privdns_responses_total{network="hub",rcode="BADVERS"}`:     1,
			`privdns_request_duration_seconds_count{network="hub"}`:      1,
		},
	}, {
		name: "private answer counts zone, link and outcome",
		act: func(m *Metrics) {
			m.PrivateAnswer(blob, "prod-link", "fallback")
			m.PrivateAnswer(blob, "prod-link", "fallback")
			m.PrivateAnswer(blob, "dev-link", "nxdomain")
		},
		want: map[string]float64{
			`privdns_private_answers_total{link="prod-link",outcome="fallback",zone="` + blob + `"}`: 2,
			`privdns_private_answers_total{link="dev-link",outcome="nxdomain",zone="` + blob + `"}`:  1,
		},
	}, {
		name: "cname into private counts its zone",
		act:  func(m *Metrics) { m.CNAMEIntoPrivate(blob) },
		want: map[string]float64{
			`privdns_cname_into_private_total{zone="` + blob + `"}`: 1,
		},
	}, {
		name: "upstream attempt counts target, rcode and duration",
		act: func(m *Metrics) {
			m.Upstreams().Request("168.63.129.16:53", "SERVFAIL", 30*time.Millisecond)
			m.Upstreams().Request("168.63.129.16:53", "timeout", 2*time.Second)
		},
		want: map[string]float64{
			`privdns_upstream_requests_total{rcode="SERVFAIL",upstream="168.63.129.16:53"}`: 1,
			`privdns_upstream_requests_total{rcode="timeout",upstream="168.63.129.16:53"}`:  1,
			`privdns_upstream_duration_seconds_count{upstream="168.63.129.16:53"}`:          2,
			`privdns_upstream_duration_seconds_sum{upstream="168.63.129.16:53"}`:            2.03,
		},
	}, {
		name: "failed reload counts a failure and keeps the timestamp",
		act:  func(m *Metrics) { m.Reload(false, reloadAt) },
		want: map[string]float64{
			`privdns_config_reloads_total{result="failure"}`: 1,
		},
	}, {
		name: "successful reload counts a success and sets the timestamp",
		act:  func(m *Metrics) { m.Reload(true, reloadAt) },
		want: map[string]float64{
			`privdns_config_reloads_total{result="success"}`:         1,
			`privdns_config_last_reload_success_timestamp_seconds{}`: 1_700_000_000.5,
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, reg := newTestMetrics(t)
			before := values(t, reg)
			tc.act(m)
			assertSeries(t, moved(before, values(t, reg)), tc.want)
		})
	}
}

func TestReloadTimestampTracksLastSuccessOnly(t *testing.T) {
	m, _ := newTestMetrics(t)
	if got := testutil.ToFloat64(m.lastOK); got != 0 {
		t.Fatalf("timestamp before any reload = %v, want 0", got)
	}
	m.Reload(true, reloadAt)
	m.Reload(false, reloadAt.Add(time.Minute))
	if got := testutil.ToFloat64(m.lastOK); got != 1_700_000_000.5 {
		t.Errorf("timestamp after a failure = %v, want the last success 1700000000.5", got)
	}
	m.Reload(true, reloadAt.Add(time.Minute))
	if got := testutil.ToFloat64(m.lastOK); got != 1_700_000_060.5 {
		t.Errorf("timestamp = %v, want 1700000060.5", got)
	}
	if ok, failed := testutil.ToFloat64(m.reloadOK), testutil.ToFloat64(m.reloadFailed); ok != 2 || failed != 1 {
		t.Errorf("reloads success=%v failure=%v, want 2 and 1", ok, failed)
	}
}

func TestUpstreamHealthGaugeFlips(t *testing.T) {
	m, _ := newTestMetrics(t)
	obs := m.Upstreams()
	const target = "tls://1.1.1.1:853#cloudflare-dns.com"
	for i, step := range []struct {
		healthy bool
		want    float64
	}{{true, 1}, {false, 0}, {true, 1}} {
		obs.Health(target, step.healthy)
		if got := testutil.ToFloat64(m.upHealthy.WithLabelValues(target)); got != step.want {
			t.Errorf("step %d: Health(%v) → gauge %v, want %v", i, step.healthy, got, step.want)
		}
	}
	if n := testutil.CollectAndCount(m.upHealthy); n != 1 {
		t.Errorf("upstream_healthy has %d series, want 1", n)
	}
}

func TestRegisteringTwiceFailsWithoutPanic(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg); err != nil {
		t.Fatalf("first New: %v", err)
	}
	_, err := New(reg)
	var already prometheus.AlreadyRegisteredError
	if !errors.As(err, &already) {
		t.Fatalf("second New: err = %v, want an AlreadyRegisteredError", err)
	}
}

func TestFailedNewLeavesRegistryAsItWas(t *testing.T) {
	reg := prometheus.NewRegistry()
	// The same family as New's own, so only rolled-back registrations (not
	// the registry's memory of label names) decide whether New works again.
	clash := counterVec("config_reloads_total",
		"Configuration reloads, by result (success or failure).", "result")
	reg.MustRegister(clash)
	if _, err := New(reg); err == nil {
		t.Fatal("New succeeded despite a clashing metric name")
	}
	reg.Unregister(clash)
	if _, err := New(reg); err != nil {
		t.Errorf("New after removing the clash: %v (collectors left behind by the failed New?)", err)
	}
}

func TestNewWithoutRegistererFails(t *testing.T) {
	if _, err := New(nil); !errors.Is(err, ErrNoRegisterer) {
		t.Errorf("New(nil): err = %v, want ErrNoRegisterer", err)
	}
}
