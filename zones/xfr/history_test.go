package xfr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSerialLessFollowsRFC1982(t *testing.T) {
	for _, c := range []struct {
		a, b uint32
		want bool
	}{
		{1, 2, true},
		{2, 1, false},
		{7, 7, false},
		{4294967295, 0, true}, // wraps
		{4294967290, 5, true},
		{5, 4294967290, false},
		{0, 1 << 31, false}, // exactly 2^31 apart: undefined, neither
		{1 << 31, 0, false},
		{0, 1<<31 - 1, true},
	} {
		if got := SerialLess(c.a, c.b); got != c.want {
			t.Errorf("SerialLess(%d, %d) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func withSerial(serial int, rest ...string) []string {
	return append([]string{fmt.Sprintf("@ 3600 IN SOA ns1 hm %d 60 30 600 10", serial), "@ 60 IN NS ns1"}, rest...)
}

func TestNextServedOnlyGrows(t *testing.T) {
	prev := mustZone(t, "corp.example", withSerial(10, "www 60 IN A 10.0.0.1")...)
	cases := []struct {
		name       string
		loaded     []string
		wantSerial uint32
		wantWarn   bool
	}{
		{"a higher serial in the file", withSerial(12, "www 60 IN A 10.0.0.2"), 12, false},
		{"the same data, the same serial", withSerial(10, "www 60 IN A 10.0.0.1"), 10, false},
		{"the same data, a lower serial (a restart from an older file)", withSerial(3, "www 60 IN A 10.0.0.1"), 10, false},
		{"changed data, the same serial", withSerial(10, "www 60 IN A 10.0.0.2"), 11, true},
		{"changed data, a lower serial", withSerial(4, "www 60 IN A 10.0.0.2"), 11, true},
		{"only a TTL changed", withSerial(10, "www 61 IN A 10.0.0.1"), 11, true},
		{"only the SOA refresh changed", []string{"@ 3600 IN SOA ns1 hm 10 99 30 600 10", "@ 60 IN NS ns1", "www 60 IN A 10.0.0.1"}, 11, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			served, warn := NextServed(prev, mustZone(t, "corp.example", c.loaded...))
			if served.SOA().Serial != c.wantSerial || (warn != "") != c.wantWarn {
				t.Errorf("NextServed = serial %d, warning %q; want %d, warning %v", served.SOA().Serial, warn, c.wantSerial, c.wantWarn)
			}
			if c.wantWarn && !strings.Contains(warn, "serving it with serial 11") {
				t.Errorf("warning %q does not say the serial served", warn)
			}
		})
	}
	if served, _ := NextServed(nil, prev); served != prev {
		t.Error("the first load is not served as it is")
	}
	wrap := mustZone(t, "corp.example", withSerial(4294967295, "a 60 IN A 10.0.0.1")...)
	if served, _ := NextServed(wrap, mustZone(t, "corp.example", withSerial(4294967295, "a 60 IN A 10.0.0.9")...)); served.SOA().Serial != 0 {
		t.Errorf("serial after 4294967295 = %d, want 0 (RFC 1982 wraps)", served.SOA().Serial)
	}
}

func TestHistoryKeepsAChainWithinItsBounds(t *testing.T) {
	h := NewHistory(HistoryOptions{MaxDeltas: 3})
	versions := make([]string, 0)
	var prev = mustZone(t, "corp.example", withSerial(1)...)
	for s := 2; s <= 6; s++ {
		versions = append(versions, fmt.Sprintf("v%d 60 IN A 10.0.0.%d", s, s))
		z := mustZone(t, "corp.example", withSerial(s, versions...)...)
		h.Add(prev, z)
		prev = z
	}
	if _, ok := h.Since(2, 6); ok {
		t.Error("Since(2) holds after only three deltas are kept")
	}
	ds, ok := h.Since(3, 6)
	if !ok || len(ds) != 3 || ds[0].From.Serial != 3 || ds[2].To.Serial != 6 {
		t.Fatalf("Since(3, 6) = %v, %v; want the three deltas 3→6", ds, ok)
	}
	if len(ds[0].Added) != 1 || ds[0].Added[0].Header().Name != "v4.corp.example." || len(ds[0].Deleted) != 0 {
		t.Errorf("delta 3→4 = -%v +%v, want +v4", ds[0].Deleted, ds[0].Added)
	}
	if _, ok := h.Since(4, 7); ok {
		t.Error("Since to a serial never held")
	}
	// A version not derived from the newest starts the history afresh.
	other := mustZone(t, "corp.example", withSerial(9, "x 60 IN A 10.0.0.9")...)
	h.Add(mustZone(t, "corp.example", withSerial(8)...), other)
	if _, ok := h.Since(5, 6); ok {
		t.Error("the old chain survived a break")
	}
	if _, ok := h.Since(8, 9); !ok {
		t.Error("the new delta is not held")
	}
	var none *History
	if _, ok := none.Since(1, 2); ok {
		t.Error("a nil history holds something")
	}
}

func TestHistoryDropsDeltasOverItsRecordBound(t *testing.T) {
	h := NewHistory(HistoryOptions{MaxRecords: 2})
	a := mustZone(t, "corp.example", withSerial(1)...)
	b := mustZone(t, "corp.example", withSerial(2, "x 60 IN A 10.0.0.1", "y 60 IN A 10.0.0.2", "z 60 IN A 10.0.0.3")...)
	h.Add(a, b)
	if _, ok := h.Since(1, 2); ok {
		t.Error("a delta over MaxRecords is kept")
	}
}

func TestNewMetricsTwiceOnOneRegistryShares(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	a.Transfer("z.", In, Success)
	b.Transfer("z.", In, Success)
	b.Serial("z.", 42)
	b.Expired("z.", true)
	if got := testutil.ToFloat64(a.transfers.WithLabelValues("z.", In, Success)); got != 2 {
		t.Errorf("shared counter = %v, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "privdns_zone_transfers_total", "privdns_zone_serial", "privdns_zone_expired"); err != nil || n != 3 {
		t.Errorf("gathered %d series (%v), want 3", n, err)
	}
	a.Forget("z.")
	if n, _ := testutil.GatherAndCount(reg, "privdns_zone_serial", "privdns_zone_expired"); n != 0 {
		t.Errorf("%d gauges left after Forget", n)
	}
	var none *Metrics
	none.Transfer("z.", In, Failure) // a nil *Metrics counts nothing, without a panic
}

func TestNewKeyRejectsWhatConfigWouldNot(t *testing.T) {
	if _, err := NewKey("x", "hmac-md5", secretA); err == nil {
		t.Error("hmac-md5 accepted")
	}
	if _, err := NewKey("x", "hmac-sha256", "!!"); err == nil {
		t.Error("a non-base64 secret accepted")
	}
	k := mustKey(t, "Xfr", "HMAC-SHA512.", secretA)
	if k.Name != "xfr." || k.Algorithm != "hmac-sha512." {
		t.Errorf("key = %s %s, want xfr. hmac-sha512.", k.Name, k.Algorithm)
	}
}
