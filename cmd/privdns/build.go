package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/upstream"
	"github.com/privdns/privdns/zones"
)

// deps are what a configuration is built on beyond its own text.
type deps struct {
	log      *slog.Logger
	groups   *groupTxn         // where upstream groups come from
	cache    *cache.Cache      // nil: no cache (explain)
	tls      *tls.Config       // base TLS config for DNS-over-TLS targets
	observer upstream.Observer // nil: no upstream metrics
	// sources hand out the data of cfg.Zones[i] where it is not the
	// configuration's own (secondary zones, zones served with a raised
	// serial); nil or short: the configuration's data.
	sources []resolver.ZoneSource
}

// noData is the source of a secondary zone with no data at hand.
type noData string

func (n noData) Name() string         { return string(n) }
func (n noData) Current() *zones.Zone { return nil }

// build maps a validated configuration onto a resolver View.
func build(cfg *config.Config, d deps) (*resolver.View, error) {
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
	for i, z := range cfg.Zones {
		for _, l := range z.Links {
			p, err := resolver.ParsePolicy(l.ResolutionPolicy)
			if err != nil {
				return nil, fmt.Errorf("zone %s link %s: %w", z.Name, l.Name, err)
			}
			link := resolver.Link{Name: l.Name, Network: l.Network, Zone: z.Data, Policy: p, FallbackTypes: l.FallbackTypes}
			if i < len(d.sources) && d.sources[i] != nil {
				link.Zone, link.Source = nil, d.sources[i]
			} else if z.Data == nil {
				// A secondary zone without a source (a command that
				// serves nothing): no data, SERVFAIL, as R12 says.
				link.Source = noData(z.Name)
			}
			opts.Links = append(opts.Links, link)
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
