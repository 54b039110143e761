package config

import (
	"math"
	"time"
)

// validateLimits checks server.limits and server.rateLimit (SPEC R11).
// Only tcpQueriesPerConnection documents 0 ("unlimited"); for the other
// counts a 0 would refuse every query of its kind, so it is reported like
// a negative value rather than read as "off".
func validateLimits(r *report, l Limits, rl RateLimit) {
	atLeastOne := []struct {
		key   string
		value int
	}{
		{"server.limits.inFlight", l.InFlight},
		{"server.limits.tcpConnections", l.TCPConnections},
		{"server.limits.upstreamQueriesPerQuery", l.UpstreamQueriesPerQuery},
		{"server.rateLimit.burst", rl.Burst},
	}
	for _, c := range atLeastOne {
		if c.value < 1 {
			r.errorf(c.key, "%d is not a limit: give at least 1", c.value)
		}
	}
	if l.TCPQueriesPerConnection < 0 {
		r.errorf("server.limits.tcpQueriesPerConnection", "must not be negative (0 = unlimited)")
	}
	switch {
	case l.TCPIdleTimeout <= 0:
		r.errorf("server.limits.tcpIdleTimeout", "must be positive")
	case l.TCPIdleTimeout < time.Millisecond:
		r.errorf("server.limits.tcpIdleTimeout", "%v would close every connection before its first query: give at least 1ms (the default is 10s)", l.TCPIdleTimeout)
	}
	if q := rl.QueriesPerSecond; !(q > 0) || math.IsInf(q, 1) { // NaN fails q > 0
		r.errorf("server.rateLimit.queriesPerSecond", "%v is not a rate: give a number of queries above 0", q)
	}
	if rl.Slip < 0 {
		r.errorf("server.rateLimit.slip", "must not be negative (0 = drop every limited query)")
	}
}
