package config

import (
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// limitsWith is the minimal configuration plus a server section whose
// lines start at line 9.
func limitsWith(ls ...string) string { return withMinimal(append([]string{"server:"}, ls...)...) }

func TestLimitProblemsNameFileLineAndKey(t *testing.T) {
	cases := []struct {
		name    string
		config  string
		line    int
		key     string
		wantMsg string
	}{
		{"negative inFlight", limitsWith("  limits:", "    inFlight: -1"), 10, "server.limits.inFlight", "-1 is not a limit: give at least 1"},
		{"zero inFlight", limitsWith("  limits: {inFlight: 0}"), 9, "server.limits.inFlight", "0 is not a limit"},
		{"fractional inFlight", limitsWith("  limits: {inFlight: 1.5}"), 9, "server.limits.inFlight", "must be an integer"},
		{"zero tcpConnections", limitsWith("  limits:", "    tcpConnections: 0"), 10, "server.limits.tcpConnections", "give at least 1"},
		{"negative upstreamQueriesPerQuery", limitsWith("  limits:", "    upstreamQueriesPerQuery: -16"), 10, "server.limits.upstreamQueriesPerQuery", "give at least 1"},
		{"negative tcpQueriesPerConnection", limitsWith("  limits:", "    tcpQueriesPerConnection: -1"), 10, "server.limits.tcpQueriesPerConnection", "must not be negative (0 = unlimited)"},
		{"zero tcpIdleTimeout", limitsWith("  limits:", "    tcpIdleTimeout: 0s"), 10, "server.limits.tcpIdleTimeout", "must be positive"},
		{"negative tcpIdleTimeout", limitsWith("  limits:", "    tcpIdleTimeout: -10s"), 10, "server.limits.tcpIdleTimeout", "must be positive"},
		{"nanosecond tcpIdleTimeout", limitsWith("  limits:", "    tcpIdleTimeout: 1ns"), 10, "server.limits.tcpIdleTimeout", "at least 1ms"},
		{"tcpIdleTimeout without unit", limitsWith("  limits:", "    tcpIdleTimeout: 10"), 10, "server.limits.tcpIdleTimeout", "must be a duration"},
		{"limits not a mapping", limitsWith("  limits: 10"), 9, "server.limits", "must be a mapping"},
		{"misspelt limit", limitsWith("  limits:", "    inflights: 10"), 10, "server.limits.inflights", "unknown key (did you mean inFlight?)"},
		{"zero queriesPerSecond", limitsWith("  rateLimit:", "    enabled: true", "    queriesPerSecond: 0"), 11, "server.rateLimit.queriesPerSecond", "0 is not a rate"},
		{"negative queriesPerSecond", limitsWith("  rateLimit: {queriesPerSecond: -200}"), 9, "server.rateLimit.queriesPerSecond", "-200 is not a rate"},
		{"NaN queriesPerSecond", limitsWith("  rateLimit: {queriesPerSecond: .nan}"), 9, "server.rateLimit.queriesPerSecond", "NaN is not a rate"},
		{"infinite queriesPerSecond", limitsWith("  rateLimit: {queriesPerSecond: .inf}"), 9, "server.rateLimit.queriesPerSecond", "+Inf is not a rate"},
		{"queriesPerSecond not a number", limitsWith("  rateLimit: {queriesPerSecond: fast}"), 9, "server.rateLimit.queriesPerSecond", "must be a number"},
		{"zero burst", limitsWith("  rateLimit:", "    burst: 0"), 10, "server.rateLimit.burst", "0 is not a limit: give at least 1"},
		{"negative slip", limitsWith("  rateLimit:", "    slip: -2"), 10, "server.rateLimit.slip", "must not be negative (0 = drop every limited query)"},
		{"enabled not a boolean", limitsWith("  rateLimit:", "    enabled: sometimes"), 10, "server.rateLimit.enabled", "must be true or false"},
		{"bad exempt prefix", limitsWith("  rateLimit:", "    exempt:", "      - 10.0.0.0/8", "      - 10.0.0.1"), 12, "server.rateLimit.exempt[1]", `"10.0.0.1" is not a CIDR prefix such as 10.1.0.0/16`},
		{"exempt prefix too long", limitsWith("  rateLimit:", "    exempt: ['fd00::/129']"), 10, "server.rateLimit.exempt[0]", "not a CIDR prefix"},
		{"exempt not a list", limitsWith("  rateLimit:", "    exempt: 10.0.0.0/8"), 10, "server.rateLimit.exempt", "must be a list"},
		{"exempt item not a string", limitsWith("  rateLimit:", "    exempt: [{a: b}]"), 10, "server.rateLimit.exempt[0]", "must be a string"},
		{"disabled rate limit is still checked", limitsWith("  rateLimit: {enabled: false, burst: -1}"), 9, "server.rateLimit.burst", "give at least 1"},
		{"NaN query sampling", limitsWith("  log: {querySampling: .nan}"), 9, "server.log.querySampling", "outside [0, 1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"privdns.yaml": c.config})
			path := filepath.Join(dir, "privdns.yaml")
			errs := problemsOf(t, path)
			if len(errs) != 1 {
				t.Fatalf("got %d problems, want exactly one:\n%v", len(errs), errs)
			}
			p := errs[0]
			if p.File != path || p.Line != c.line || p.Key != c.key || !strings.Contains(p.Msg, c.wantMsg) {
				t.Errorf("problem = %q\nwant %s:%d: %s: …%s…", p.Error(), path, c.line, c.key, c.wantMsg)
			}
		})
	}
}

func TestLimitsAcceptTheirBoundaries(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": limitsWith(
		"  limits: {inFlight: 1, tcpConnections: 1, tcpIdleTimeout: 1ms, tcpQueriesPerConnection: 0, upstreamQueriesPerQuery: 1}",
		"  rateLimit: {enabled: true, queriesPerSecond: 0.5, burst: 1, slip: 0}",
	)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	wantLimits := Limits{InFlight: 1, TCPConnections: 1, TCPIdleTimeout: time.Millisecond, UpstreamQueriesPerQuery: 1}
	wantRate := RateLimit{Enabled: true, QueriesPerSecond: 0.5, Burst: 1}
	if !reflect.DeepEqual(cfg.Server.Limits, wantLimits) || !reflect.DeepEqual(cfg.Server.RateLimit, wantRate) {
		t.Errorf("limits = %+v %+v, want %+v %+v", cfg.Server.Limits, cfg.Server.RateLimit, wantLimits, wantRate)
	}
}

func TestExemptPrefixesAreMaskedWithAWarning(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": limitsWith(
		"  rateLimit:",
		"    exempt: [10.1.2.3/16, '::ffff:192.0.2.0/120', 'fd00::/56']",
	)})
	path := filepath.Join(dir, "privdns.yaml")
	cfg := mustLoad(t, path)
	want := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("fd00::/56")}
	if !reflect.DeepEqual(cfg.Server.RateLimit.Exempt, want) {
		t.Errorf("exempt = %v, want %v", cfg.Server.RateLimit.Exempt, want)
	}
	wantWarnings := []string{
		path + ":10: server.rateLimit.exempt[0]: 10.1.2.3/16 has host bits set; read as 10.1.0.0/16",
		path + ":10: server.rateLimit.exempt[1]: ::ffff:192.0.2.0/120 is an IPv4-mapped prefix; read as 192.0.2.0/24",
	}
	if strings.Join(cfg.Warnings, "\n") != strings.Join(wantWarnings, "\n") {
		t.Errorf("warnings =\n%s\nwant\n%s", strings.Join(cfg.Warnings, "\n"), strings.Join(wantWarnings, "\n"))
	}
}

func TestEnvironmentOverridesLimits(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": limitsWith("  limits: {inFlight: 5}")})
	t.Setenv("PRIVDNS_SERVER_LIMITS_INFLIGHT", "7")
	t.Setenv("PRIVDNS_SERVER_LIMITS_TCPIDLETIMEOUT", "3s")
	t.Setenv("PRIVDNS_SERVER_RATELIMIT_ENABLED", "true")
	t.Setenv("PRIVDNS_SERVER_RATELIMIT_QUERIESPERSECOND", "12.5")
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	l, rl := cfg.Server.Limits, cfg.Server.RateLimit
	if l.InFlight != 7 || l.TCPIdleTimeout != 3*time.Second || !rl.Enabled || rl.QueriesPerSecond != 12.5 || rl.Burst != 400 {
		t.Errorf("limits = %+v, rate limit = %+v; want the environment's values", l, rl)
	}
}

func TestEnvironmentLimitProblemNamesTheVariable(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": limitsWith("  limits: {inFlight: 5}")})
	t.Setenv("PRIVDNS_SERVER_RATELIMIT_SLIP", "-1")
	errs := problemsOf(t, filepath.Join(dir, "privdns.yaml"))
	if len(errs) != 1 || errs[0].Key != "server.rateLimit.slip" || errs[0].Line != 0 || !strings.Contains(errs[0].Msg, "(from $PRIVDNS_SERVER_RATELIMIT_SLIP)") {
		t.Fatalf("problems = %v, want one at server.rateLimit.slip naming $PRIVDNS_SERVER_RATELIMIT_SLIP", errs)
	}
}
