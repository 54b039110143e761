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

// deps are the long-lived parts a configuration is built on: they outlive
// one configuration, so a reload keeps the cache warm.
type deps struct {
	log      *slog.Logger
	cache    *cache.Cache                                // nil: no cache (explain)
	tls      *tls.Config                                 // base TLS config for DNS-over-TLS targets
	observer upstream.Observer                           // nil: no upstream metrics
	engine   resolver.Observer                           // nil: no private-answer metrics
	exchange func(upstream.Exchanger) upstream.Exchanger // optional wrapper (explain's tracing)
}

// built is one configuration mapped onto the resolver: the View to swap in
// and the upstream groups to close when it is swapped out.
type built struct {
	cfg    *config.Config
	view   *resolver.View
	groups []*upstream.Group
}

// Close releases the upstream groups' pooled connections.
func (b *built) Close() error {
	var errs []error
	for _, g := range b.groups {
		errs = append(errs, g.Close())
	}
	return errors.Join(errs...)
}

// build maps a validated configuration onto resolver types.
func build(cfg *config.Config, d deps) (*built, error) {
	b := &built{cfg: cfg}
	policy, err := upstream.ParsePolicy(cfg.Upstreams.Policy)
	if err != nil {
		return nil, fmt.Errorf("upstreams.policy: %w", err)
	}
	route := func(name string, targets []string) (resolver.Exchanger, error) {
		g, err := upstream.NewGroup(upstream.GroupOptions{
			Name: name, Targets: targets, Policy: policy, Timeout: cfg.Upstreams.Timeout,
			TLSConfig: d.tls, Logger: d.log, Observer: d.observer,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		b.groups = append(b.groups, g)
		var ex upstream.Exchanger = g
		if d.exchange != nil {
			ex = d.exchange(ex)
		}
		if d.cache != nil {
			// The targets are part of the cache route, so a reload that
			// points a rule elsewhere never serves the old targets' answers.
			ex = d.cache.Wrap(name+"@"+strings.Join(targets, ","), ex)
		}
		return ex, nil
	}
	opts := resolver.ViewOptions{UnknownClients: cfg.Server.UnknownClients, Explain: cfg.Server.Explain}
	if opts.Default, err = route("upstreams", cfg.Upstreams.Servers); err != nil {
		b.Close()
		return nil, err
	}
	for _, n := range cfg.Networks {
		opts.Networks = append(opts.Networks, resolver.Network{Name: n.Name, Prefixes: n.AddressPrefixes})
	}
	for _, z := range cfg.Zones {
		for _, l := range z.Links {
			p, err := resolver.ParsePolicy(l.ResolutionPolicy)
			if err != nil {
				b.Close()
				return nil, fmt.Errorf("zone %s link %s: %w", z.Name, l.Name, err)
			}
			opts.Links = append(opts.Links, resolver.Link{Name: l.Name, Network: l.Network, Zone: z.Data, Policy: p, FallbackTypes: l.FallbackTypes})
		}
	}
	for _, rs := range cfg.ForwardingRulesets {
		for _, r := range rs.Rules {
			name := rs.Name + "/" + r.Domain
			rt := resolver.Route{Name: name, Domain: r.Domain, Networks: rs.Networks, Disabled: r.State == "Disabled"}
			if !rt.Disabled {
				if rt.Upstream, err = route(name, r.Targets); err != nil {
					b.Close()
					return nil, err
				}
			}
			opts.Rules = append(opts.Rules, rt)
		}
	}
	if b.view, err = resolver.NewView(opts); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}
