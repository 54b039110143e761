package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDefaultForwardsToResolvConfNameservers(t *testing.T) {
	dir := writeFiles(t, map[string]string{"resolv.conf": lines(
		"# written by a test",
		"search example.com",
		"nameserver 192.0.2.1",
		"nameserver 2001:db8::1",
		"options edns0",
	)})
	cfg, err := defaultFrom(filepath.Join(dir, "resolv.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"file", cfg.File, ""},
		{"listeners", cfg.Server.Listeners, []Listener{{Address: "127.0.0.1:1053"}}},
		{"http", cfg.Server.HTTP, "127.0.0.1:9153"},
		{"networks", cfg.Networks, []Network{{Name: "local", AddressPrefixes: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}},
		{"upstreams", cfg.Upstreams.Servers, []string{"192.0.2.1:53", "[2001:db8::1]:53"}},
		{"policy", cfg.Upstreams.Policy, "sequential"},
		{"zones", len(cfg.Zones), 0},
		{"warnings", len(cfg.Warnings), 0},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

func TestDefaultWithoutNameserversStartsOfflineWithAWarning(t *testing.T) {
	dir := writeFiles(t, map[string]string{"resolv.conf": "search example.com\n"})
	for name, path := range map[string]string{
		"no nameserver line": filepath.Join(dir, "resolv.conf"),
		"no resolv.conf":     filepath.Join(dir, "absent"),
	} {
		cfg, err := defaultFrom(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(cfg.Upstreams.Servers, []string{"127.0.0.1:53"}) {
			t.Errorf("%s: upstreams = %v, want 127.0.0.1:53", name, cfg.Upstreams.Servers)
		}
		if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], path) {
			t.Errorf("%s: warnings = %q, want one naming %s", name, cfg.Warnings, path)
		}
	}
}

func TestDefaultHonoursEnvironment(t *testing.T) {
	t.Setenv("PRIVDNS_SERVER_HTTP", "127.0.0.1:9999")
	t.Setenv("PRIVDNS_UPSTREAMS_SERVERS", "192.0.2.9")
	cfg, err := defaultFrom(filepath.Join(t.TempDir(), "absent"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.HTTP != "127.0.0.1:9999" || !reflect.DeepEqual(cfg.Upstreams.Servers, []string{"192.0.2.9:53"}) {
		t.Errorf("http %q upstreams %v, want the environment's", cfg.Server.HTTP, cfg.Upstreams.Servers)
	}
}

func TestParseUsesTheGivenFormat(t *testing.T) {
	cfg, err := Parse([]byte(`{"upstreams": {"servers": ["192.0.2.1"]}}`), "json", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.File != "" || cfg.Upstreams.Servers[0] != "192.0.2.1:53" {
		t.Errorf("Parse = %+v", cfg)
	}
	if _, err := Parse([]byte("a: 1"), "ini", "x.ini"); err == nil || !strings.Contains(err.Error(), "unsupported configuration format") {
		t.Errorf("Parse(ini) error = %v, want unsupported format", err)
	}
}

func TestConfigWithoutUpstreamsForwardsToResolvConf(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 192.0.2.53\nnameserver 2001:db8::53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "networks:\n  - name: n\n    addressPrefixes: [10.0.0.0/8]\n"
	cfg, err := parseWith([]byte(text), "yaml", filepath.Join(dir, "privdns.yaml"), resolv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.53:53", "[2001:db8::53]:53"}; !slices.Equal(cfg.Upstreams.Servers, want) {
		t.Errorf("servers %v, want %v", cfg.Upstreams.Servers, want)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "upstreams.servers: not set; forwarding to the nameservers of "+resolv) {
		t.Errorf("warnings %q", cfg.Warnings)
	}
	// Servers given in the file: no default, no warning.
	cfg, err = parseWith([]byte(text+"upstreams: {servers: [192.0.2.1]}\n"), "yaml", filepath.Join(dir, "privdns.yaml"), resolv, nil)
	if err != nil || len(cfg.Warnings) != 0 || !slices.Equal(cfg.Upstreams.Servers, []string{"192.0.2.1:53"}) {
		t.Errorf("explicit servers: %v %q %v", cfg.Upstreams.Servers, cfg.Warnings, err)
	}
}
