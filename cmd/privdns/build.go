package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/upstream"
)

// deps are what a configuration is built on beyond its own text.
type deps struct {
	log      *slog.Logger
	groups   *groupTxn         // where upstream groups come from
	cache    *cache.Cache      // nil: no cache (explain)
	tls      *tls.Config       // base TLS config for DNS-over-TLS targets
	observer upstream.Observer // nil: no upstream metrics
}

// errSecondaryNotServed refuses a configuration with a secondary zone
// (zones[].primaries): it validates, but this build does not serve it yet.
var errSecondaryNotServed = errors.New("zones[].primaries: secondary zones are validated but not served by this build yet")

// build maps a validated configuration onto a resolver View.
func build(cfg *config.Config, d deps) (*resolver.View, error) {
	for _, z := range cfg.Zones {
		if z.Secondary() {
			// zones/secondary follows primaries (tested against BIND);
			// the serving side does not hold its zones yet.
			return nil, fmt.Errorf("zone %s: %w", z.Name, errSecondaryNotServed)
		}
	}
	policy, err := upstream.ParsePolicy(cfg.Upstreams.Policy)
	if err != nil {
		return nil, fmt.Errorf("upstreams.policy: %w", err)
	}
	route := func(name string, targets []string) (resolver.Exchanger, error) {
		g, err := d.groups.get(upstream.GroupOptions{
			Name: name, Targets: targets, Policy: policy, Timeout: cfg.Upstreams.Timeout,
			TLSConfig: d.tls, Logger: d.log, Observer: d.observer,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if d.cache == nil {
			return g, nil
		}
		// The targets are part of the cache route, so a reload that points
		// a rule elsewhere never serves the old targets' answers.
		return d.cache.Wrap(name+"@"+strings.Join(targets, ","), g), nil
	}
	opts := resolver.ViewOptions{UnknownClients: cfg.Server.UnknownClients, Explain: cfg.Server.Explain, DefaultTargets: cfg.Upstreams.Servers,
		LocalZones: cfg.Server.LocalZones}
	if opts.Default, err = route("upstreams", cfg.Upstreams.Servers); err != nil {
		return nil, err
	}
	for _, n := range cfg.Networks {
		opts.Networks = append(opts.Networks, resolver.Network{Name: n.Name, Prefixes: n.AddressPrefixes})
	}
	for _, z := range cfg.Zones {
		for _, l := range z.Links {
			p, err := resolver.ParsePolicy(l.ResolutionPolicy)
			if err != nil {
				return nil, fmt.Errorf("zone %s link %s: %w", z.Name, l.Name, err)
			}
			opts.Links = append(opts.Links, resolver.Link{Name: l.Name, Network: l.Network, Zone: z.Data, Policy: p, FallbackTypes: l.FallbackTypes})
		}
	}
	for _, rs := range cfg.ForwardingRulesets {
		for _, r := range rs.Rules {
			name := rs.Name + "/" + r.Domain
			rt := resolver.Route{Name: name, Domain: r.Domain, Networks: rs.Networks, Disabled: r.State == "Disabled", Targets: r.Targets}
			if !rt.Disabled {
				if rt.Upstream, err = route(name, r.Targets); err != nil {
					return nil, err
				}
			}
			opts.Rules = append(opts.Rules, rt)
		}
	}
	return resolver.NewView(opts)
}
