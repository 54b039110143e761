package config

import (
	_ "embed" // the default configuration
	"fmt"
	"net"

	"github.com/miekg/dns"
)

// defaultYAML is the configuration served when the user gives none (SPEC
// §4). Its upstreams come from resolv.conf, as the registered default of
// upstreams.servers, so PRIVDNS_UPSTREAMS_SERVERS still overrides them.
//
//go:embed default.yaml
var defaultYAML []byte

// offlineUpstream is forwarded to when resolv.conf names no nameserver, so
// privdns still starts (and serves its private zones) on an offline host.
const offlineUpstream = "127.0.0.1:53"

// Default returns the embedded default configuration: a listener on
// 127.0.0.1:1053, one network "local" of 127.0.0.0/8 and ::1, forwarding
// to the nameservers of /etc/resolv.conf, and no private zones.
func Default() (*Config, error) {
	return defaultFrom("/etc/resolv.conf")
}

// defaultFrom is Default with the resolv.conf path injectable for tests.
func defaultFrom(resolvConf string) (*Config, error) {
	servers, warning := nameservers(resolvConf)
	cfg, err := parse(defaultYAML, "yaml", "", servers, nil)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		cfg.Warnings = append(cfg.Warnings, warning)
	}
	return cfg, nil
}

// nameservers returns the nameservers of a resolv.conf as "host:53"
// addresses, or offlineUpstream and a warning saying why.
func nameservers(path string) ([]string, string) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return []string{offlineUpstream}, fmt.Sprintf("%s: %v; forwarding to %s", path, err, offlineUpstream)
	}
	if len(cc.Servers) == 0 {
		return []string{offlineUpstream}, fmt.Sprintf("%s: no nameserver; forwarding to %s", path, offlineUpstream)
	}
	out := make([]string, len(cc.Servers))
	for i, s := range cc.Servers {
		out[i] = net.JoinHostPort(s, cc.Port)
	}
	return out, ""
}
