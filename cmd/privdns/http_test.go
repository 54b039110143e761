package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/privdns/privdns/resolver/resolvertest"
)

const metricsConfig = `
server:
  listeners: [{address: "127.0.0.1:0"}]
  http: "127.0.0.1:0"
upstreams: { servers: ["%s"], timeout: 500ms }
networks:
  - { name: vnet-bob, addressPrefixes: ["127.0.1.0/24"] }
  - { name: vnet-alice, addressPrefixes: ["127.0.2.0/24"] }
zones:
  - name: privatelink.blob.core.windows.net
    records: ["contoso 10 IN A 10.1.0.5", "alias 10 IN CNAME www.example.com."]
    links:
      - { name: bob-link, network: vnet-bob }
      - { name: alice-link, network: vnet-alice, resolutionPolicy: NxDomainRedirect }
forwardingRulesets:
  - name: broken
    networks: [vnet-bob]
    rules: [{ domain: broken.example., targets: ["%s"] }]
`

// metricValue sums the samples of name whose labels include want.
func metricValue(t *testing.T, reg prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestMetricsMoveWithAScriptedMixOfQueries(t *testing.T) {
	public := resolvertest.New(t, resolvertest.MustPublic(
		"contoso.blob.core.windows.net. 60 IN CNAME contoso.privatelink.blob.core.windows.net",
		"fabrikam.blob.core.windows.net. 60 IN CNAME fabrikam.privatelink.blob.core.windows.net",
		"fabrikam.privatelink.blob.core.windows.net. 60 IN A 20.60.222.33",
		"www.example.com. 300 IN A 93.184.215.14",
	))
	refusing := resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeRefused)
		w.WriteMsg(m)
	}))
	s := serveText(t, "", fmt.Sprintf(metricsConfig, public.Addr, refusing.Addr))
	dnsAddr, base := s.addrs()[0], "http://"+s.httpAddr()

	blob := "privatelink.blob.core.windows.net"
	type delta struct {
		name   string
		labels map[string]string
		want   float64
	}
	steps := []struct {
		what, src, qname string
		qtype            uint16
		deltas           []delta
	}{
		{"private answer through a public CNAME", "127.0.1.5", "contoso.blob.core.windows.net", dns.TypeA, []delta{
			{"privdns_private_answers_total", map[string]string{"zone": blob, "link": "bob-link", "outcome": "answer"}, 1},
			{"privdns_cname_into_private_total", map[string]string{"zone": blob}, 1},
			{"privdns_cache_misses_total", nil, 1},
			// The public chain ends in NXDOMAIN: the privatelink name is not public here.
			{"privdns_upstream_requests_total", map[string]string{"upstream": public.Addr, "rcode": "NXDOMAIN"}, 1},
			{"privdns_requests_total", map[string]string{"network": "vnet-bob", "proto": "udp", "type": "A"}, 1},
			{"privdns_responses_total", map[string]string{"network": "vnet-bob", "rcode": "NOERROR"}, 1},
			{"privdns_request_duration_seconds", map[string]string{"network": "vnet-bob"}, 1},
		}},
		{"the same again, from a ready-packed answer", "127.0.1.5", "contoso.blob.core.windows.net", dns.TypeA, []delta{
			{"privdns_private_answers_total", map[string]string{"zone": blob, "link": "bob-link", "outcome": "answer"}, 1},
			{"privdns_cname_into_private_total", map[string]string{"zone": blob}, 1},
			{"privdns_cache_hits_total", nil, 1},
			{"privdns_cache_misses_total", nil, 0},
			{"privdns_upstream_requests_total", nil, 0},
			{"privdns_requests_total", map[string]string{"network": "vnet-bob", "proto": "udp", "type": "A"}, 1},
			{"privdns_responses_total", map[string]string{"network": "vnet-bob", "rcode": "NOERROR"}, 1},
		}},
		{"NODATA", "127.0.1.5", "contoso.privatelink.blob.core.windows.net", dns.TypeAAAA, []delta{
			{"privdns_private_answers_total", map[string]string{"outcome": "nodata"}, 1},
			{"privdns_requests_total", map[string]string{"type": "AAAA"}, 1},
		}},
		{"Default NXDOMAIN", "127.0.1.5", "fabrikam.blob.core.windows.net", dns.TypeA, []delta{
			{"privdns_private_answers_total", map[string]string{"link": "bob-link", "outcome": "nxdomain"}, 1},
			{"privdns_responses_total", map[string]string{"network": "vnet-bob", "rcode": "NXDOMAIN"}, 1},
		}},
		{"fallback", "127.0.2.5", "fabrikam.blob.core.windows.net", dns.TypeA, []delta{
			{"privdns_private_answers_total", map[string]string{"link": "alice-link", "outcome": "fallback"}, 1},
			{"privdns_responses_total", map[string]string{"network": "vnet-alice", "rcode": "NOERROR"}, 1},
		}},
		{"cache miss", "127.0.2.5", "www.example.com", dns.TypeA, []delta{
			{"privdns_cache_misses_total", nil, 1}, {"privdns_cache_hits_total", nil, 0}, {"privdns_cache_entries", nil, 1},
		}},
		{"cache hit", "127.0.1.5", "www.example.com", dns.TypeA, []delta{
			{"privdns_cache_hits_total", nil, 1}, {"privdns_cache_misses_total", nil, 0},
			{"privdns_upstream_requests_total", nil, 0},
		}},
		{"a private CNAME out of the zone", "127.0.1.5", "alias." + blob, dns.TypeA, []delta{
			{"privdns_private_answers_total", map[string]string{"zone": blob, "link": "bob-link", "outcome": "answer"}, 1},
			{"privdns_cache_hits_total", nil, 1},
		}},
		{"upstream error", "127.0.1.5", "x.broken.example", dns.TypeA, []delta{
			{"privdns_upstream_requests_total", map[string]string{"upstream": refusing.Addr, "rcode": "REFUSED"}, 1},
			{"privdns_responses_total", map[string]string{"network": "vnet-bob", "rcode": "SERVFAIL"}, 1},
		}},
		{"refused client", "127.0.3.5", "www.example.com", dns.TypeA, []delta{
			{"privdns_responses_total", map[string]string{"network": "unknown", "rcode": "REFUSED"}, 1},
			{"privdns_cache_hits_total", nil, 0},
		}},
	}
	for _, st := range steps {
		before := make([]float64, len(st.deltas))
		for i, d := range st.deltas {
			before[i] = metricValue(t, s.reg, d.name, d.labels)
		}
		ask(t, "udp", st.src, dnsAddr, st.qname, st.qtype, true)
		for i, d := range st.deltas {
			if got := metricValue(t, s.reg, d.name, d.labels) - before[i]; got != d.want {
				t.Errorf("%s: %s%v moved by %v, want %v", st.what, d.name, d.labels, got, d.want)
			}
		}
	}

	code, body := httpGet(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, name := range []string{
		"privdns_requests_total", "privdns_responses_total", "privdns_request_duration_seconds", "privdns_private_answers_total",
		"privdns_cname_into_private_total", "privdns_cache_hits_total", "privdns_cache_misses_total", "privdns_cache_entries",
		"privdns_cache_stale_served_total", "privdns_upstream_requests_total", "privdns_upstream_duration_seconds",
		"privdns_upstream_healthy", "privdns_config_reloads_total", "privdns_config_last_reload_success_timestamp_seconds",
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for _, private := range []string{"127.0.1.5", "www.example.com", "fabrikam"} {
		if strings.Contains(body, private) {
			t.Errorf("/metrics carries a client address or query name: %q", private)
		}
	}
	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	if code, body := httpGet(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz: %d %s", code, body)
	}
	s.setNotReady("shutting down")
	if code, body := httpGet(t, base+"/readyz"); code != 503 || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while not ready: %d %q, want 503 with the reason", code, body)
	}
}

func TestCacheCountersGoOnAcrossAReloadThatReplacesTheCache(t *testing.T) {
	public := resolvertest.New(t, resolvertest.MustPublic("www.example.com. 300 IN A 192.0.2.1"))
	dir := t.TempDir()
	text := fmt.Sprintf(metricsConfig, public.Addr, "127.0.0.1:9")
	srv := serveText(t, dir, text)
	addr := srv.addrs()[0]
	for i := 0; i < 3; i++ { // a miss, then hits (ready-packed ones too)
		ask(t, "udp", "127.0.1.5", addr, "www.example.com", dns.TypeA, true)
	}
	ask(t, "tcp", "127.0.1.5", addr, "www.example.com", dns.TypeA, true)
	hits := metricValue(t, srv.reg, "privdns_cache_hits_total", nil)
	misses := metricValue(t, srv.reg, "privdns_cache_misses_total", nil)
	if hits != 3 || misses != 1 {
		t.Fatalf("before the reload: %v hits, %v misses; want 3 and 1", hits, misses)
	}
	writeAtomic(t, filepath.Join(dir, "privdns.yaml"), text+"cache: { maxEntries: 500 }\n")
	if err := srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	ask(t, "udp", "127.0.1.5", addr, "www.example.com", dns.TypeA, true) // the new cache is empty
	if h, m := metricValue(t, srv.reg, "privdns_cache_hits_total", nil), metricValue(t, srv.reg, "privdns_cache_misses_total", nil); h != hits || m != misses+1 {
		t.Errorf("after the reload: %v hits, %v misses; want %v and %v (counters go on, not back to 0)", h, m, hits, misses+1)
	}
}

// A scrape never waits on the server's lock, which a reload holds for its
// length and Close while it waits for HTTP requests to end: scrapes are
// answered during both, and Close does not stall on one.
func TestScrapesDoNotWaitOnReloadsOrClose(t *testing.T) {
	public := resolvertest.StartPublic(t, "www.example.com. 300 IN A 93.184.215.14")
	s := serveText(t, "", fmt.Sprintf(metricsConfig, public.Addr, public.Addr))
	url := "http://" + s.httpAddr() + "/metrics"
	s.mu.Lock() // as a reload in progress, or Close, holds it
	got := make(chan string, 1)
	go func() {
		client := &http.Client{Timeout: 20 * time.Second}
		resp, err := client.Get(url)
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		got <- string(body)
	}()
	body := <-got
	s.mu.Unlock()
	if !strings.Contains(body, "privdns_cache_hits_total") {
		t.Fatalf("a scrape while the lock was held: %.200s", body)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(4 * time.Second): // the grace for queries is 5 s
		t.Fatal("Close waited for its grace period with no query in flight")
	}
}
