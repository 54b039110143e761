package config

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// validate checks what every value means, all at once, and normalises
// names, enumerations and addresses in place.
func validate(r *report, cfg *Config) {
	nets := validateNetworks(r, cfg.Networks)
	validateServer(r, &cfg.Server, nets)
	validateUpstreams(r, &cfg.Upstreams)
	validateZones(r, cfg.Zones, nets, validateDefaults(r, &cfg.Defaults))
	validateRulesets(r, cfg.ForwardingRulesets, nets)
	validateCache(r, &cfg.Cache)
}

func validateServer(r *report, s *Server, nets networkIndex) {
	validateListeners(r, s.Listeners, nets, func(i int) string { return fmt.Sprintf("server.listeners[%d].address", i) })
	if s.HTTP != "" {
		if err := httpAddress(s.HTTP); err != nil {
			r.errorf("server.http", "%v", err)
		}
	}
	if s.Admin != "" {
		if err := httpAddress(s.Admin); err != nil {
			r.errorf("server.admin", "%v", err)
		} else if s.HTTP != "" && sameAddress(s.Admin, s.HTTP) {
			r.errorf("server.admin", "%q is server.http's address: the admin API needs its own (for example 127.0.0.1:9154)", s.Admin)
		}
	}
	if strings.EqualFold(s.UnknownClients, "refuse") {
		s.UnknownClients = "refuse"
	} else if declared, ok := nets[strings.ToLower(s.UnknownClients)]; ok {
		s.UnknownClients = declared
	} else {
		r.errorf("server.unknownClients", "%q is neither refuse nor a network", s.UnknownClients)
	}
	s.Log.Level = oneOf(r, "server.log.level", s.Log.Level, "debug", "info", "warn", "error")
	s.Log.Format = oneOf(r, "server.log.format", s.Log.Format, "text", "json")
	validateLimits(r, s.Limits, s.RateLimit)
	if !(s.Log.QuerySampling >= 0 && s.Log.QuerySampling <= 1) { // NaN too
		r.errorf("server.log.querySampling", "%v is outside [0, 1]", s.Log.QuerySampling)
	}
}

// validateListeners checks and normalises the listeners' addresses, each
// reported at addrKey(i), and resolves their networks.
func validateListeners(r *report, ls []Listener, nets networkIndex, addrKey func(int) string) {
	seen := map[string]string{} // normalised address → key of its listener
	for i := range ls {
		l := &ls[i]
		key := addrKey(i)
		addr, err := listenAddress(l.Address)
		switch {
		case err != nil:
			r.errorf(key, "%v", err)
		case seen[addr] != "" && !strings.HasSuffix(addr, ":0"): // port 0 picks a fresh port each time
			r.errorf(key, "%q is already a listener (%s)", l.Address, seen[addr])
		default:
			seen[addr] = key
			l.Address = addr
		}
		if l.Network != "" {
			l.Network, _ = nets.ref(r, strings.TrimSuffix(key, ".address")+".network", l.Network)
		}
	}
	wildcardOverlaps(r, ls, addrKey)
}

func validateUpstreams(r *report, u *Upstreams) {
	if len(u.Servers) == 0 {
		r.errorf("upstreams.servers", "at least one upstream required")
	}
	seen := map[string]bool{}
	for i, s := range u.Servers {
		key := fmt.Sprintf("upstreams.servers[%d]", i)
		addr, err := serverAddress(s)
		switch {
		case err != nil:
			r.errorf(key, "%v", err)
		case seen[addr]:
			r.errorf(key, "%s is listed twice", addr)
		default:
			seen[addr] = true
			u.Servers[i] = addr
		}
	}
	u.Policy = oneOf(r, "upstreams.policy", u.Policy, "sequential", "random", "roundRobin")
	if u.Timeout <= 0 {
		r.errorf("upstreams.timeout", "must be positive")
	} else if u.Timeout < time.Millisecond {
		r.errorf("upstreams.timeout", "%v is too short to hear any upstream: give at least 1ms (the default is 2s)", u.Timeout)
	}
}

func validateCache(r *report, c *Cache) {
	if c.MaxEntries < 0 {
		r.errorf("cache.maxEntries", "must not be negative")
	}
	for _, d := range []struct {
		key   string
		value time.Duration
	}{
		{"cache.minTTL", c.MinTTL},
		{"cache.maxTTL", c.MaxTTL},
		{"cache.maxNegativeTTL", c.MaxNegativeTTL},
		{"cache.serveStale.answerTTL", c.ServeStale.AnswerTTL},
		{"cache.serveStale.maxAge", c.ServeStale.MaxAge},
	} {
		if d.value < 0 {
			r.errorf(d.key, "must not be negative")
		}
	}
	if c.MinTTL > c.MaxTTL && !r.isBroken("cache.maxTTL") {
		r.errorf("cache.minTTL", "%v is greater than cache.maxTTL %v", c.MinTTL, c.MaxTTL)
	}
}

// validateDefaults checks the defaults and returns the resolution policy
// for links that name none. A bad default is reported once, here: links
// then get Default rather than one complaint each.
func validateDefaults(r *report, d *Defaults) string {
	d.ResolutionPolicy = oneOf(r, "defaults.resolutionPolicy", d.ResolutionPolicy, policies...)
	if !slices.Contains(policies, d.ResolutionPolicy) {
		return "Default"
	}
	return d.ResolutionPolicy
}

// policies are the resolution policies of links, as Azure spells them.
var policies = []string{"Default", "NxDomainRedirect"}

// oneOf returns the canonical spelling of v among choices, matched without
// regard to case, and reports anything else at key.
func oneOf(r *report, key, v string, choices ...string) string {
	for _, c := range choices {
		if strings.EqualFold(v, c) {
			return c
		}
	}
	r.errorf(key, "%q is not one of %s", v, strings.Join(choices, ", "))
	return v
}

// wildcardOverlaps rejects a wildcard listener (":53", "0.0.0.0:53") next
// to another listener on the same port: the second cannot be bound while
// the first holds every address.
func wildcardOverlaps(r *report, ls []Listener, addrKey func(int) string) {
	type port struct{ key, addr string }
	wild := map[string]port{}
	var specific []port
	for i, l := range ls {
		host, p, err := net.SplitHostPort(l.Address)
		if err != nil || p == "0" {
			continue
		}
		key := addrKey(i)
		if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
			if first, dup := wild[p]; dup {
				r.errorf(key, "%s and %s (%s) both take every address on port %s", l.Address, first.addr, first.key, p)
				continue
			}
			wild[p] = port{key, l.Address}
		} else {
			specific = append(specific, port{key, l.Address})
		}
	}
	for _, sp := range specific {
		_, p, _ := net.SplitHostPort(sp.addr)
		if w, ok := wild[p]; ok {
			r.errorf(sp.key, "%s cannot be bound next to %s (%s), which takes every address on port %s: list specific addresses only", sp.addr, w.addr, w.key, p)
		}
	}
}

// sameAddress reports whether two "host:port" addresses name the same
// socket: IP addresses compare by value, host names by spelling; port 0
// picks a fresh port each time, so it is never the same.
func sameAddress(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb || pa == "0" {
		return false
	}
	ia, ea := netip.ParseAddr(ha)
	ib, eb := netip.ParseAddr(hb)
	if ea == nil && eb == nil {
		return ia.Unmap() == ib.Unmap()
	}
	return strings.EqualFold(ha, hb)
}
