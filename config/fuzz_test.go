package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzZones are the zone files a fuzzed configuration may name.
var fuzzZones = map[string]string{
	"zones/blob.zone": "$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 300 2419200 10\nfabrikam IN A 10.1.0.6\n",
	"zones/z.zone":    "a 60 IN A 10.0.0.1\na 30 IN A 10.0.0.2\n@ IN MX 10 w\nw IN CNAME a\nbad IN A 10.0.0\n",
}

// FuzzLoad writes arbitrary bytes as a YAML configuration file, next to the
// zone files it may name, and loads it. It must never panic, every failure
// must be Errors whose problems each name a file and a line, and every
// configuration accepted must hold only valid values. Seeds are below and
// in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	full, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(full),
		minimal,
		withMinimal("zones:", "  - name: z.example", "    file: zones/z.zone", "    records: ['x 10 IN A 10.0.0.9', 'a 5 IN A 10.0.0.3']", "    links: [{name: l, network: net-a}]"),
		limitsWith("  limits: {inFlight: 0, tcpIdleTimeout: 1ns}", "  rateLimit: {enabled: true, queriesPerSecond: .nan, exempt: [10.0.0.1/8, bad]}"),
		lines("a: &a [x, x]", "b: &b [*a, *a]", "server: {<<: {http: ''}}"),
		"upstreams:\n  servers: [1.1.1.1\n",
		"[1, 2]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if mayLeaveFolder(data) {
			t.Skip("the configuration may name a file outside its folder")
		}
		defer time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("input hangs: %q", data)) }).Stop()
		dir := t.TempDir()
		files := map[string]string{"privdns.yaml": string(data)}
		for name, text := range fuzzZones {
			files[name] = text
		}
		for name, text := range files {
			path := filepath.Join(dir, name)
			if os.MkdirAll(filepath.Dir(path), 0o755) != nil || os.WriteFile(path, []byte(text), 0o644) != nil {
				t.Fatal("cannot write the files")
			}
		}
		path := filepath.Join(dir, "privdns.yaml")
		cfg, err := Load(path)
		if err != nil {
			checkProblems(t, err, dir)
			return
		}
		checkValid(t, cfg)
	})
}

// mayLeaveFolder reports whether a fuzzed configuration may name a file
// outside its folder (file: /dev/stdin would hang the fuzzer): an absolute
// path, "..", or text YAML may decode into either (escapes, tags). The
// "//" of a tls:// upstream and the "/" of a prefix length are no paths.
func mayLeaveFolder(data []byte) bool {
	if bytes.Contains(data, []byte("..")) || bytes.ContainsAny(data, `\!`) {
		return true
	}
	for i, c := range data {
		prefixLen := i+1 < len(data) && '0' <= data[i+1] && data[i+1] <= '9' // ::/8 is no path to a device
		if c != '/' || prefixLen || bytes.HasSuffix(data[:i], []byte("tls:")) || bytes.HasSuffix(data[:i], []byte("tls:/")) {
			continue
		}
		if i == 0 {
			return true
		}
		p := data[i-1]
		if !('a' <= p && p <= 'z' || 'A' <= p && p <= 'Z' || '0' <= p && p <= '9' || p == '_' || p == '-' || p == '.') {
			return true
		}
	}
	return false
}

// checkProblems asserts that a failed load says where every problem is.
func checkProblems(t *testing.T, err error, dir string) {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("Load error %v (%T), want a non-empty Errors", err, err)
	}
	for _, p := range errs {
		if !strings.HasPrefix(p.File, dir) || p.Line < 1 || p.Msg == "" {
			t.Errorf("problem %q (%+v) names no file line", p.Error(), p)
		}
	}
}

// checkValid asserts that what validation accepted is valid.
func checkValid(t *testing.T, cfg *Config) {
	t.Helper()
	s := cfg.Server
	l, rl := s.Limits, s.RateLimit
	switch {
	case l.InFlight < 1 || l.TCPConnections < 1 || l.UpstreamQueriesPerQuery < 1 || l.TCPQueriesPerConnection < 0:
		t.Errorf("limits %+v accepted", l)
	case l.TCPIdleTimeout < time.Millisecond:
		t.Errorf("tcpIdleTimeout %v accepted", l.TCPIdleTimeout)
	case !(rl.QueriesPerSecond > 0) || rl.Burst < 1 || rl.Slip < 0:
		t.Errorf("rate limit %+v accepted", rl)
	case !(s.Log.QuerySampling >= 0 && s.Log.QuerySampling <= 1):
		t.Errorf("querySampling %v accepted", s.Log.QuerySampling)
	case len(cfg.Upstreams.Servers) == 0 || cfg.Upstreams.Timeout < time.Millisecond:
		t.Errorf("upstreams %+v accepted", cfg.Upstreams)
	}
	for _, p := range rl.Exempt {
		if !p.IsValid() || p != p.Masked() {
			t.Errorf("exempt prefix %v accepted", p)
		}
	}
	for _, n := range cfg.Networks {
		for _, p := range n.AddressPrefixes {
			if !p.IsValid() || p != p.Masked() {
				t.Errorf("network %s: prefix %v accepted", n.Name, p)
			}
		}
	}
	for _, z := range cfg.Zones {
		if z.Data == nil || z.Data.Name() != z.Name {
			t.Errorf("zone %q accepted without its data", z.Name)
		}
	}
}
