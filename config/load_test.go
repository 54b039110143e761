package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestLoadFullExampleSetsEveryField(t *testing.T) {
	cfg := mustLoad(t, "testdata/full.yaml")
	abs, _ := filepath.Abs("testdata/full.yaml")
	zoneFile, _ := filepath.Abs("testdata/zones/blob.zone")
	dataDir, _ := filepath.Abs("testdata/data")
	data := cfg.Zones[0].Data
	cfg.Zones[0].Data = nil
	want := &Config{
		File: abs,
		Server: Server{
			Listeners:      []Listener{{Address: "127.0.0.1:1053"}, {Address: "10.0.0.4:53", Network: "hub"}},
			HTTP:           "127.0.0.1:9154",
			Admin:          "127.0.0.1:9155",
			Identity:       "privdns-1",
			Explain:        false,
			UnknownClients: "vnet-prod",
			Log:            Log{Level: "debug", Format: "json", Queries: true, QuerySampling: 0.25},
			Limits: Limits{InFlight: 500, TCPConnections: 50, TCPIdleTimeout: 5 * time.Second,
				TCPQueriesPerConnection: 100, UpstreamQueriesPerQuery: 8},
			RateLimit: RateLimit{Enabled: true, QueriesPerSecond: 50.5, Burst: 100, Slip: 0,
				Exempt: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}},
			DataDir: dataDir,
		},
		Upstreams: Upstreams{
			Servers: []string{"168.63.129.16:53", "[2001:db8::53]:53", "tls://1.1.1.1:853#cloudflare-dns.com", "9.9.9.9:5353"},
			Policy:  "roundRobin",
			Timeout: 3 * time.Second,
		},
		Networks: []Network{
			{Name: "vnet-prod", AddressPrefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("fd00:1::/48")}},
			{Name: "hub", AddressPrefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}},
		},
		Zones: []Zone{{
			Name:    "privatelink.blob.core.windows.net.",
			File:    zoneFile,
			Records: []string{"contoso 10 IN A 10.1.0.5"},
			Links: []Link{
				{Name: "prod-link", Network: "vnet-prod", ResolutionPolicy: "NxDomainRedirect", RegistrationEnabled: true,
					FallbackTypes: []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT}},
				{Name: "hub-link", Network: "hub", ResolutionPolicy: "NxDomainRedirect",
					FallbackTypes: []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME}},
			},
			// A registrationEnabled link: the registration defaults.
			Registration: &Registration{TTL: 10 * time.Second},
		}},
		ForwardingRulesets: []Ruleset{{
			Name:     "onprem",
			Networks: []string{"vnet-prod", "hub"},
			Rules: []Rule{
				{Domain: "corp.contoso.com.", Targets: []string{"10.10.0.4:53", "10.10.0.5:53"}, State: "Disabled"},
				{Domain: ".", Targets: []string{"10.10.0.6:53"}, State: "Enabled"},
			},
		}},
		Cache: Cache{
			MaxEntries: 5000, MinTTL: 5 * time.Second, MaxTTL: time.Hour, MaxNegativeTTL: 10 * time.Minute,
			ServeStale: ServeStale{Enabled: false, AnswerTTL: 10 * time.Second, MaxAge: 2 * time.Hour},
			Prefetch:   false,
		},
		Defaults: Defaults{ResolutionPolicy: "NxDomainRedirect"},
		Warnings: []string{"testdata/full.yaml:29: networks[1].addressPrefixes[0]: 10.0.0.5/24 has host bits set; read as 10.0.0.0/24"},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", cfg, want)
	}
	if data == nil || data.Name() != "privatelink.blob.core.windows.net." {
		t.Fatalf("zone data = %v, want the loaded zone", data)
	}
	for _, name := range []string{"contoso.privatelink.blob.core.windows.net.", "fabrikam.privatelink.blob.core.windows.net."} {
		if !data.Contains(name) {
			t.Errorf("zone lacks %s (file and inline records must merge)", name)
		}
	}
}

func TestLoadAppliesDefaults(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": lines(
		"upstreams: {servers: [192.0.2.1]}",
		"networks: [{name: n, addressPrefixes: [10.0.0.0/8]}]",
		"zones:",
		"  - name: z.example",
		"    links: [{name: l, network: n}]",
		"forwardingRulesets:",
		"  - name: rs",
		"    rules: [{domain: corp.example, targets: [10.9.9.9]}]",
	)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	wantServer := Server{
		Listeners: []Listener{{Address: "127.0.0.1:1053"}}, HTTP: "127.0.0.1:9153", Explain: true, LocalZones: true,
		UnknownClients: "refuse", Log: Log{Level: "info", Format: "text", QuerySampling: 1},
		Limits: Limits{InFlight: 10000, TCPConnections: 1000, TCPIdleTimeout: 10 * time.Second,
			TCPQueriesPerConnection: 0, UpstreamQueriesPerQuery: 16},
		RateLimit: RateLimit{Enabled: false, QueriesPerSecond: 200, Burst: 400, Slip: 2},
	}
	wantCache := Cache{
		MaxEntries: 100000, MaxTTL: 24 * time.Hour, MaxNegativeTTL: time.Hour, Prefetch: true,
		ServeStale: ServeStale{Enabled: true, AnswerTTL: 30 * time.Second, MaxAge: 24 * time.Hour},
	}
	wantLink := Link{Name: "l", Network: "n", ResolutionPolicy: "Default", FallbackTypes: []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME}}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"server", cfg.Server, wantServer},
		{"upstreams", cfg.Upstreams, Upstreams{Servers: []string{"192.0.2.1:53"}, Policy: "sequential", Timeout: 2 * time.Second}},
		{"cache", cfg.Cache, wantCache},
		{"link", cfg.Zones[0].Links[0], wantLink},
		{"rule state", cfg.ForwardingRulesets[0].Rules[0].State, "Enabled"},
		{"zone without SOA loads", cfg.Zones[0].Data != nil, true},
		{"warnings", len(cfg.Warnings), 0},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

func TestEnvironmentOverridesScalarKeys(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": lines(
		"server:",
		"  http: 127.0.0.1:1111",
		"  log: {level: warn}",
		"upstreams: {servers: [192.0.2.1], timeout: 5s}",
	)})
	t.Setenv("PRIVDNS_SERVER_HTTP", "")
	t.Setenv("PRIVDNS_SERVER_IDENTITY", "from-env")
	t.Setenv("PRIVDNS_SERVER_LOG_LEVEL", "error")
	t.Setenv("PRIVDNS_SERVER_EXPLAIN", "false")
	t.Setenv("PRIVDNS_UPSTREAMS_TIMEOUT", "750ms")
	t.Setenv("PRIVDNS_UPSTREAMS_SERVERS", "192.0.2.7, 192.0.2.8:5300")
	t.Setenv("PRIVDNS_CACHE_MAXENTRIES", "42")
	t.Setenv("PRIVDNS_CACHE_SERVESTALE_MAXAGE", "1h")
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"http (empty switches off)", cfg.Server.HTTP, ""},
		{"identity (absent from file)", cfg.Server.Identity, "from-env"},
		{"log level (nested, set in file)", cfg.Server.Log.Level, "error"},
		{"explain", cfg.Server.Explain, false},
		{"timeout", cfg.Upstreams.Timeout, 750 * time.Millisecond},
		{"servers", cfg.Upstreams.Servers, []string{"192.0.2.7:53", "192.0.2.8:5300"}},
		{"maxEntries", cfg.Cache.MaxEntries, 42},
		{"serveStale.maxAge", cfg.Cache.ServeStale.MaxAge, time.Hour},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestEnvironmentOverrideProblemNamesTheVariable(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": minimal})
	t.Setenv("PRIVDNS_UPSTREAMS_TIMEOUT", "soon")
	errs := problemsOf(t, filepath.Join(dir, "privdns.yaml"))
	if len(errs) != 1 || errs[0].Key != "upstreams.timeout" || !strings.Contains(errs[0].Msg, "$PRIVDNS_UPSTREAMS_TIMEOUT") {
		t.Fatalf("problems = %v, want one at upstreams.timeout naming $PRIVDNS_UPSTREAMS_TIMEOUT", errs)
	}
}

func TestEnvironmentListProblemNamesTheVariableNotAFileLine(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": minimal})
	t.Setenv("PRIVDNS_UPSTREAMS_SERVERS", "192.0.2.7 bad")
	errs := problemsOf(t, filepath.Join(dir, "privdns.yaml"))
	if len(errs) != 1 || errs[0].Key != "upstreams.servers[1]" || errs[0].Line != 0 || !strings.Contains(errs[0].Msg, "(from $PRIVDNS_UPSTREAMS_SERVERS)") {
		t.Fatalf("problems = %v, want one at upstreams.servers[1], no line, naming $PRIVDNS_UPSTREAMS_SERVERS", errs)
	}
}

func TestKeysDifferingOnlyInCaseAreAProblem(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": lines(
		"upstreams: {servers: [192.0.2.1]}",
		"networks:",
		"  - name: n",
		"    addressPrefixes: [10.0.0.0/8]",
		"    addressprefixes: [10.1.0.0/16]",
		"zones: [{name: a.example, links: [{name: l, network: n}]}]",
		"Zones: [{name: b.example, links: [{name: l, network: n}]}]",
	)})
	path := filepath.Join(dir, "privdns.yaml")
	errs := problemsOf(t, path)
	want := []string{
		path + `:5: networks[0].addressprefixes: same key as "addressPrefixes" on line 4 (keys are case-insensitive)`,
		path + `:7: Zones: same key as "zones" on line 6 (keys are case-insensitive)`,
	}
	var got []string
	for _, p := range errs {
		got = append(got, p.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRelativeZoneFileResolvesAgainstConfigFolder(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"etc/privdns.yaml": minimal + lines("zones:", "  - name: z.example", "    file: zones/z.zone"),
		"etc/zones/z.zone": "www 60 IN A 10.1.0.9\n",
	})
	t.Chdir(t.TempDir()) // the working directory must not matter
	cfg := mustLoad(t, filepath.Join(dir, "etc/privdns.yaml"))
	if want := filepath.Join(dir, "etc/zones/z.zone"); cfg.Zones[0].File != want {
		t.Errorf("zone file = %s, want %s", cfg.Zones[0].File, want)
	}
	if !cfg.Zones[0].Data.Contains("www.z.example.") {
		t.Error("zone data lacks www.z.example. from the file")
	}
}

func TestJSONAndTOMLLoadLikeYAML(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"c.json": `{
	"upstreams": {"servers": ["192.0.2.1"], "timeout": "3s"},
	"networks": [{"name": "n", "addressPrefixes": ["10.0.0.0/8"]}],
	"zones": [{"name": "z.example", "records": ["a 60 IN A 10.0.0.1"],
		"links": [{"name": "l", "network": "n", "resolutionPolicy": "NxDomainRedirect"}]}],
	"cache": {"maxEntries": 7}
}`,
		"c.toml": lines(
			"[upstreams]", `servers = ["192.0.2.1"]`, `timeout = "3s"`,
			"[[networks]]", `name = "n"`, `addressPrefixes = ["10.0.0.0/8"]`,
			"[[zones]]", `name = "z.example"`, `records = ["a 60 IN A 10.0.0.1"]`,
			"[[zones.links]]", `name = "l"`, `network = "n"`, `resolutionPolicy = "NxDomainRedirect"`,
			"[cache]", "maxEntries = 7",
		),
	})
	for _, file := range []string{"c.json", "c.toml"} {
		t.Run(file, func(t *testing.T) {
			cfg := mustLoad(t, filepath.Join(dir, file))
			if cfg.Upstreams.Timeout != 3*time.Second || cfg.Cache.MaxEntries != 7 || cfg.Cache.MaxTTL != 24*time.Hour {
				t.Errorf("upstreams %+v cache %+v: want timeout 3s, maxEntries 7, default maxTTL", cfg.Upstreams, cfg.Cache)
			}
			if l := cfg.Zones[0].Links[0]; l.Network != "n" || l.ResolutionPolicy != "NxDomainRedirect" {
				t.Errorf("link = %+v", l)
			}
			if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "zones[0].links[0].resolutionPolicy") {
				t.Errorf("warnings = %q, want the NxDomainRedirect warning", cfg.Warnings)
			}
		})
	}
}

func TestUnknownKeysInJSONAndTOMLAreReported(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"c.json": `{"upstreams": {"servers": ["192.0.2.1"]},
"networks": [{"name": "n", "prefixes": ["10.0.0.0/8"]}]}`,
		"c.toml": lines("[upstreams]", `servers = ["192.0.2.1"]`, "[[networks]]", `name = "n"`, `Prefixes = ["10.0.0.0/8"]`),
	})
	for file, want := range map[string]Problem{
		"c.json": {Line: 2, Key: "networks[0].prefixes"}, // YAML reads the JSON, so lines are known
		"c.toml": {Line: 5, Key: "networks[0].Prefixes"}, // the key as written
	} {
		errs := problemsOf(t, filepath.Join(dir, file))
		if len(errs) != 1 || errs[0].Key != want.Key || errs[0].Line != want.Line || !strings.HasPrefix(errs[0].Msg, "unknown key") {
			t.Errorf("%s: problems = %v, want unknown key %s at line %d", file, errs, want.Key, want.Line)
		}
	}
}

func TestSyntaxErrorsNameTheLine(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"bad.yaml": lines("server:", "  http: x", "    explain: true"),
		"dup.yaml": lines("server:", "  http: x", "  http: y"),
		"bad.json": "{\n\"server\": {\n\"http\": \"x\",\n}\n}",
		"bad.toml": lines("[server]", `http = "x"`, "explain = "),
	})
	for file, line := range map[string]int{"bad.yaml": 3, "dup.yaml": 3, "bad.json": 4, "bad.toml": 3} {
		errs := problemsOf(t, filepath.Join(dir, file))
		if len(errs) != 1 || errs[0].Line != line || errs[0].File != filepath.Join(dir, file) {
			t.Errorf("%s: problems = %v, want one at line %d", file, errs, line)
		}
	}
}

// TestYAMLProblemsWithoutALineGetOne: the YAML parser names no line for a
// problem on the first line, nor for text it cannot read (found by
// FuzzLoad); each still gets its line.
func TestYAMLProblemsWithoutALineGetOne(t *testing.T) {
	for _, c := range []struct {
		text, msg string
		line      int
	}{
		{`"`, "found unexpected end of stream", 1},
		{"a: [b, \"c]", "found unexpected end of stream", 1},
		{"a: b\x01\n", "control characters are not allowed", 1},
		{"a: b\nc: d\n\x7f: e\n", "control characters are not allowed", 3},
		{"a: b\nc: \xff\n", "invalid leading UTF-8 octet", 2},
	} {
		dir := writeFiles(t, map[string]string{"privdns.yaml": c.text})
		path := filepath.Join(dir, "privdns.yaml")
		errs := problemsOf(t, path)
		if len(errs) != 1 || errs[0].File != path || errs[0].Line != c.line || !strings.HasPrefix(errs[0].Msg, "YAML syntax error: "+c.msg) {
			t.Errorf("%q: problems = %q, want %q at line %d", c.text, errs, c.msg, c.line)
		}
	}
}

// TestKeysViperCannotPlaceAreProblemsAtTheirLine: viper splits keys at
// dots, so ".x" or a null key lost its line (found by FuzzLoad).
func TestKeysViperCannotPlaceAreProblemsAtTheirLine(t *testing.T) {
	for _, c := range []struct {
		file, text, key string
		line            int
	}{
		{"a.yaml", lines("upstreams: {servers: [192.0.2.1]}", ".x:", "  - 1"), ".x", 2},
		{"b.yaml", lines("server:", "  log.: {}"), "log.", 2},
		{"c.yaml", lines("cache: {}", "server:", "  log..level: info"), "log..level", 3},
		{"d.yaml", lines("~: 1"), "~", 1},
		{"e.yaml", lines("server:", "  '': x"), "", 2},
		{"f.toml", lines("[server]", `"log..level" = "info"`), "log..level", 2},
	} {
		dir := writeFiles(t, map[string]string{c.file: c.text})
		path := filepath.Join(dir, c.file)
		errs := problemsOf(t, path)
		if len(errs) != 1 || errs[0].File != path || errs[0].Line != c.line || errs[0].Key != c.key || !strings.Contains(errs[0].Msg, "not a key name") {
			t.Errorf("%s: problems = %q, want key %q at line %d", c.file, errs, c.key, c.line)
		}
	}
}

func TestDottedKeysNest(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": lines("upstreams.servers: [192.0.2.1]", "server.log.level: debug", "server.log.lvl: x")})
	path := filepath.Join(dir, "privdns.yaml")
	errs := problemsOf(t, path)
	if len(errs) != 1 || errs[0].Line != 3 || errs[0].Key != "server.log.lvl" {
		t.Fatalf("problems = %q, want the unknown key at line 3", errs)
	}
	// The unknown part of a dotted key is found on its line (FuzzLoad).
	for _, text := range []string{lines("cache: {}", "u.v: 1"), lines("# top", `"u.v" = 1`)} {
		file := "privdns.yaml"
		if strings.Contains(text, "=") {
			file = "privdns.toml"
		}
		dir = writeFiles(t, map[string]string{file: text})
		errs = problemsOf(t, filepath.Join(dir, file))
		if len(errs) != 1 || errs[0].Line != 2 || errs[0].Key != "u" || !strings.HasPrefix(errs[0].Msg, "unknown key") {
			t.Errorf("%s: problems = %q, want the unknown key u at line 2", file, errs)
		}
	}
	dir = writeFiles(t, map[string]string{"privdns.yaml": lines("upstreams.servers: [192.0.2.1]", "server.log.level: debug")})
	if cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml")); cfg.Server.Log.Level != "debug" {
		t.Errorf("level = %q, want debug", cfg.Server.Log.Level)
	}
}

func TestMissingFileIsAProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	errs := problemsOf(t, path)
	if len(errs) != 1 || errs[0].File != path || !strings.Contains(errs[0].Msg, "no such file") {
		t.Errorf("problems = %v", errs)
	}
}

func TestProblemFormat(t *testing.T) {
	for _, c := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.yaml", Line: 3, Key: "k", Msg: "m"}, "a.yaml:3: k: m"},
		{Problem{File: "a.toml", Key: "k", Msg: "m"}, "a.toml: k: m"},
		{Problem{Key: "k", Msg: "m"}, "k: m"},
		{Problem{File: "a.yaml", Line: 3, Msg: "m"}, "a.yaml:3: m"},
	} {
		if got := c.p.Error(); got != c.want {
			t.Errorf("%+v.Error() = %q, want %q", c.p, got, c.want)
		}
	}
	if got := (Errors{{Msg: "a"}, {Msg: "b"}}).Error(); got != "a\nb" {
		t.Errorf("Errors.Error() = %q, want one problem per line", got)
	}
}

func TestTOMLProblemsNameTheirLines(t *testing.T) {
	dir := writeFiles(t, map[string]string{"c.toml": lines(
		`[server]`, // 1
		`listeners = [{address = "127.0.0.1:1053", bogus = 1}]`, // 2
		`[upstreams]`,             // 3
		`servers = ["192.0.2.1"]`, // 4
		`[[networks]]`,            // 5
		`name = "n"`,              // 6
		`addressPrefixes = [`,     // 7
		`  "10.0.0.0/8",`,         // 8
		`  "10.0.0.0/33",`,        // 9
		`]`,                       // 10
		`[[zones]]`,               // 11
		`name = "a.example"`,      // 12
		`[[zones.links]]`,         // 13
		`name = "l"`,              // 14
		`network = "n"`,           // 15
		`[[zones]]`,               // 16
		`name = "b.example"`,      // 17
		`[[zones.links]]`,         // 18
		`name = "l"`,              // 19
		`network = "nope"`,        // 20
		`[zones.extra]`,           // 21: a table of zones[1]
		`x = 1`,                   // 22
	), "dup.toml": lines(
		`[upstreams]`,
		`servers = ["192.0.2.1"]`,
		`[UpStreams]`, // 3: viper would merge it into [upstreams]
		`timeout = "1s"`,
	)})
	want := map[string]int{
		"server.listeners[0].bogus":      2,
		"networks[0].addressPrefixes[1]": 9,
		"zones[1].links[0].network":      20,
		"zones[1].extra":                 21,
	}
	errs := problemsOf(t, filepath.Join(dir, "c.toml"))
	got := map[string]int{}
	for _, p := range errs {
		got[p.Key] = p.Line
	}
	for key, line := range want {
		if l, ok := got[key]; !ok || l != line {
			t.Errorf("%s: line %d (reported %v), want line %d; all problems:\n%v", key, l, ok, line, errs)
		}
	}
	errs = problemsOf(t, filepath.Join(dir, "dup.toml"))
	if len(errs) != 1 || errs[0].Line != 3 || errs[0].Key != "UpStreams" || !strings.Contains(errs[0].Msg, "case-insensitive") {
		t.Errorf("dup.toml: %v, want UpStreams on line 3 named as a second upstreams", errs)
	}
}

// TestYAMLAliasBombIsRefusedAtOnce: a few lines whose aliases of aliases
// expand to 9^9 nodes must be refused at the line of the alias that
// expands, before the key scan walks them all.
func TestYAMLAliasBombIsRefusedAtOnce(t *testing.T) {
	ls := []string{`a: &a ["x","x","x","x","x","x","x","x","x"]`}
	for i, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		prev := string(rune('a' + i))
		ls = append(ls, name+": &"+name+" ["+strings.Repeat("*"+prev+",", 8)+"*"+prev+"]")
	}
	dir := writeFiles(t, map[string]string{"privdns.yaml": lines(ls...)})
	path := filepath.Join(dir, "privdns.yaml")
	start := time.Now()
	errs := problemsOf(t, path)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	if len(errs) != 1 || errs[0].File != path || errs[0].Line != 4 || !strings.Contains(errs[0].Msg, "excessive aliasing") {
		t.Errorf("problems = %v, want excessive aliasing at line 4", errs)
	}
}

// TestYAMLAnchorsReusedAtScaleStillLoad: one anchored list of records in
// three zones is aliasing, not a bomb.
func TestYAMLAnchorsReusedAtScaleStillLoad(t *testing.T) {
	ls := []string{"upstreams: {servers: [192.0.2.1]}", "zones:", "  - name: a.example", "    records: &recs"}
	for i := range 3000 {
		ls = append(ls, fmt.Sprintf("      - h%d IN A 10.0.%d.%d", i, i/256, i%256))
	}
	ls = append(ls, "  - {name: b.example, records: *recs}", "  - {name: c.example, records: *recs}")
	dir := writeFiles(t, map[string]string{"privdns.yaml": lines(ls...)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	if got := cfg.Zones[2].Data.Len(); got != 3001 {
		t.Errorf("zone c holds %d RRsets, want 3001", got)
	}
}
