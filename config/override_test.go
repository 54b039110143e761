package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestOverrideListenersReplacesTheConfiguredOnes(t *testing.T) {
	cfg := mustLoad(t, "testdata/full.yaml")
	if err := cfg.OverrideListeners([]string{"127.0.0.1:01054", "[::1]:1054"}); err != nil {
		t.Fatal(err)
	}
	want := []Listener{{Address: "127.0.0.1:1054"}, {Address: "[::1]:1054"}}
	if !reflect.DeepEqual(cfg.Server.Listeners, want) {
		t.Errorf("listeners = %+v, want %+v (normalised, no network)", cfg.Server.Listeners, want)
	}
}

func TestOverrideListenersChecksLikeTheFile(t *testing.T) {
	for _, c := range []struct {
		addrs []string
		want  string
	}{
		{[]string{"localhost:53"}, `--listen localhost:53: "localhost:53": "localhost" is not an IP address`},
		{[]string{"127.0.0.1"}, `--listen 127.0.0.1: "127.0.0.1" is not ip:port`},
		{[]string{"127.0.0.1:53", "127.0.0.1:053"}, `--listen 127.0.0.1:053: "127.0.0.1:053" is already a listener (--listen 127.0.0.1:53)`},
		{[]string{"0.0.0.0:53", "127.0.0.1:53"}, "--listen 127.0.0.1:53: 127.0.0.1:53 cannot be bound next to 0.0.0.0:53"},
	} {
		cfg := mustLoad(t, "testdata/full.yaml")
		before := cfg.Server.Listeners
		err := cfg.OverrideListeners(c.addrs)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.addrs, err, c.want)
		}
		if !reflect.DeepEqual(cfg.Server.Listeners, before) {
			t.Errorf("%v: a refused override changed the listeners to %+v", c.addrs, cfg.Server.Listeners)
		}
	}
}

func TestOverrideUpstreams(t *testing.T) {
	path := filepath.Join(writeFiles(t, map[string]string{"privdns.yaml": minimal}), "privdns.yaml")
	cfg := mustLoad(t, path)
	if err := cfg.OverrideUpstreams([]string{"127.0.0.1:5300", "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.1:5300", "192.0.2.7:53"}; !reflect.DeepEqual(cfg.Upstreams.Servers, want) {
		t.Errorf("servers = %v, want %v", cfg.Upstreams.Servers, want)
	}
	for _, c := range []struct {
		addrs []string
		want  string
	}{
		{[]string{"dns.example"}, `--upstream dns.example: "dns.example": bad host "dns.example": want an IP address`},
		{[]string{"192.0.2.7", "192.0.2.7:53"}, "--upstream 192.0.2.7:53: 192.0.2.7:53 is given twice"},
		{nil, "--upstream: at least one upstream required"},
	} {
		err := cfg.OverrideUpstreams(c.addrs)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.addrs, err, c.want)
		}
	}
	if want := []string{"127.0.0.1:5300", "192.0.2.7:53"}; !reflect.DeepEqual(cfg.Upstreams.Servers, want) {
		t.Errorf("refused overrides changed the servers to %v", cfg.Upstreams.Servers)
	}
}
