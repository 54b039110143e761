package config

import (
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// secret32 is a valid 32-byte base64 secret.
const secret32 = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="

// withKeys is the minimal configuration plus a tsigKeys section (line 9 is
// the first key's name).
func withKeys(ls ...string) string {
	return withMinimal(append([]string{"tsigKeys:"}, ls...)...)
}

func TestTransferConfigurationProblemsNameFileLineAndKey(t *testing.T) {
	key := "  - {name: xfr, algorithm: hmac-sha256, secret: '" + secret32 + "'}"
	cases := []struct {
		name    string
		config  string
		files   map[string]string // more files beside privdns.yaml
		line    int
		key     string
		wantMsg string
	}{
		{name: "secondary zone with a file", config: withMinimal("zones:", "  - name: z.example", "    file: z.zone", "    primaries: [10.0.0.1]"), files: map[string]string{"z.zone": "@ IN NS ns\n"}, line: 11, key: "zones[0].primaries", wantMsg: "remove file"},
		{name: "secondary zone with records", config: withMinimal("zones:", "  - name: z.example", "    records: ['a IN A 10.0.0.1']", "    primaries: [10.0.0.1]"), line: 11, key: "zones[0].primaries", wantMsg: "remove records"},
		{name: "empty primaries", config: withMinimal("zones:", "  - name: z.example", "    primaries: []"), line: 10, key: "zones[0].primaries", wantMsg: "at least one primary"},
		{name: "primary not an address", config: withMinimal("zones:", "  - name: z.example", "    primaries: [10.0.0.1, ns1.example]"), line: 10, key: "zones[0].primaries[1]", wantMsg: "want an IP address"},
		{name: "primary listed twice", config: withMinimal("zones:", "  - name: z.example", "    primaries: [10.0.0.1, '10.0.0.1:53']"), line: 10, key: "zones[0].primaries[1]", wantMsg: "listed twice"},
		{name: "unknown key name on a secondary", config: withKeys(key, "zones:", "  - name: z.example", "    primaries: [10.0.0.1]", "    tsigKey: xfr2"), line: 13, key: "zones[0].tsigKey", wantMsg: `unknown TSIG key "xfr2"`},
		{name: "unknown key name on transfer", config: withKeys(key, "zones:", "  - name: z.example", "    records: ['@ IN NS ns.example.']", "    transfer:", "      allow: [10.0.0.0/8]", "      tsigKey: nope"), line: 15, key: "zones[0].transfer.tsigKey", wantMsg: `unknown TSIG key "nope"`},
		{name: "tsigKey on a zone without primaries", config: withKeys(key, "zones:", "  - name: z.example", "    tsigKey: xfr"), line: 12, key: "zones[0].tsigKey", wantMsg: "this zone has none"},
		{name: "bad algorithm", config: withKeys("  - name: xfr", "    algorithm: hmac-md5", "    secret: '"+secret32+"'"), line: 10, key: "tsigKeys[0].algorithm", wantMsg: "not one of hmac-sha256, hmac-sha512"},
		{name: "algorithm missing", config: withKeys("  - name: xfr", "    secret: '"+secret32+"'"), line: 9, key: "tsigKeys[0].algorithm", wantMsg: "required"},
		{name: "secret not base64", config: withKeys("  - name: xfr", "    algorithm: hmac-sha512", "    secret: 'not base64!'"), line: 11, key: "tsigKeys[0].secret", wantMsg: "not valid base64"},
		{name: "secret too short", config: withKeys("  - name: xfr", "    algorithm: hmac-sha256", "    secret: 'c2hvcnQ='"), line: 11, key: "tsigKeys[0].secret", wantMsg: "5-byte secret"},
		{name: "no secret", config: withKeys("  - name: xfr", "    algorithm: hmac-sha256"), line: 9, key: "tsigKeys[0].secret", wantMsg: "required"},
		{name: "secret and secretFile", config: withKeys("  - name: xfr", "    algorithm: hmac-sha256", "    secret: '"+secret32+"'", "    secretFile: xfr.key"), line: 12, key: "tsigKeys[0].secretFile", wantMsg: "not both"},
		{name: "secret file missing", config: withKeys("  - name: xfr", "    algorithm: hmac-sha256", "    secretFile: keys/xfr.key"), line: 11, key: "tsigKeys[0].secretFile", wantMsg: "keys/xfr.key: no such file"},
		{name: "secret file not base64", config: withKeys("  - name: xfr", "    algorithm: hmac-sha256", "    secretFile: xfr.key"), files: map[string]string{"xfr.key": "key \"xfr\" { secret \"x\"; };\n"}, line: 11, key: "tsigKeys[0].secretFile", wantMsg: "holds not valid base64"},
		{name: "key declared twice", config: withKeys(key, "  - {name: XFR., algorithm: hmac-sha512, secret: '"+secret32+"'}"), line: 10, key: "tsigKeys[1].name", wantMsg: "declared twice (tsigKeys[0])"},
		{name: "bad key name", config: withKeys("  - {name: 'x y', algorithm: hmac-sha256, secret: '" + secret32 + "'}"), line: 9, key: "tsigKeys[0].name", wantMsg: "not a DNS name"},
		{name: "unknown key in a key", config: withKeys("  - name: xfr", "    algorithm: hmac-sha256", "    secret: '"+secret32+"'", "    secretfil: x"), line: 12, key: "tsigKeys[0].secretfil", wantMsg: "unknown key (did you mean secretFile?)"},
		{name: "unknown key in transfer", config: withMinimal("zones:", "  - name: z.example", "    records: ['@ IN NS ns.example.']", "    transfer:", "      allow: [10.0.0.0/8]", "      notifiy: [10.0.0.5]"), line: 13, key: "zones[0].transfer.notifiy", wantMsg: "unknown key (did you mean notify?)"},
		{name: "bad allow prefix", config: withMinimal("zones:", "  - name: z.example", "    records: ['@ IN NS ns.example.']", "    transfer:", "      allow: [10.0.0.0/8, 10.0.0/8]"), line: 12, key: "zones[0].transfer.allow[1]", wantMsg: "not a CIDR prefix"},
		{name: "bad notify target", config: withMinimal("zones:", "  - name: z.example", "    records: ['@ IN NS ns.example.']", "    transfer:", "      allow: [10.0.0.0/8]", "      notify: ['10.0.0.5:99999']"), line: 13, key: "zones[0].transfer.notify[0]", wantMsg: "bad port"},
		{name: "transfer of a zone without apex NS", config: withMinimal("zones:", "  - name: z.example", "    records: ['www IN A 10.0.0.1']", "    transfer:", "      allow: [10.0.0.0/8]"), line: 11, key: "zones[0].transfer", wantMsg: "no NS record at its apex"},
		{name: "two zones of one name in transfers", config: withMinimal("zones:", "  - name: z.example", "    primaries: [10.0.0.1]", "  - name: Z.example.", "    records: ['@ IN NS ns.example.']", "    transfer: {allow: [10.0.0.0/8]}"), line: 11, key: "zones[1]", wantMsg: "one zone of a name at most"},
		{name: "registration without dataDir", config: withMinimal("zones:", "  - name: z.example", "    registration: {ttl: 5s}"), line: 9, key: "zones[0]", wantMsg: "set server.dataDir"},
		{name: "registration link without dataDir", config: withMinimal("zones:", "  - name: z.example", "    links: [{name: l, network: net-a, registrationEnabled: true}]"), line: 9, key: "zones[0]", wantMsg: "set server.dataDir"},
		{name: "replica without primaryKey", config: withKeys(key, "server: {dataDir: d}", "zones:", "  - name: z.example", "    registration: {primary: '10.0.0.1:53'}"), line: 13, key: "zones[0].registration.primaryKey", wantMsg: "required with registration.primary"},
		{name: "primaryKey without primary", config: withKeys(key, "server: {dataDir: d}", "zones:", "  - name: z.example", "    registration: {primaryKey: xfr}"), line: 13, key: "zones[0].registration.primaryKey", wantMsg: "there is none"},
		{name: "replica with expireAfter", config: withKeys(key, "server: {dataDir: d}", "zones:", "  - name: z.example", "    registration: {primary: 10.0.0.1, primaryKey: xfr, expireAfter: 1h}"), line: 13, key: "zones[0].registration.expireAfter", wantMsg: "set expireAfter on the primary"},
		{name: "replica with records", config: withKeys(key, "server: {dataDir: d}", "zones:", "  - name: z.example", "    records: ['@ IN NS ns.example.']", "    registration: {primary: 10.0.0.1, primaryKey: xfr}"), line: 14, key: "zones[0].registration.primary", wantMsg: "no file or records of its own"},
		{name: "replicaKeys not in tsigKeys", config: withKeys(key, "server: {dataDir: d}", "zones:", "  - name: z.example", "    registration: {replicaKeys: [xfr]}"), line: 13, key: "zones[0].registration.replicaKeys[0]", wantMsg: "not in registration.tsigKeys"},
		{name: "replica forwarding to itself", config: withKeys(key, "server: {dataDir: d, listeners: [{address: '127.0.0.1:5353'}]}", "zones:", "  - name: z.example", "    registration: {primary: '127.0.0.1:5353', primaryKey: xfr}"), line: 13, key: "zones[0].registration.primary", wantMsg: "forward its updates to itself"},
		{name: "replica with an unknown key", config: withKeys(key, "server: {dataDir: d}", "zones:", "  - name: z.example", "    registration: {primary: 10.0.0.1, primaryKey: nope}"), line: 13, key: "zones[0].registration.primaryKey", wantMsg: "unknown TSIG key \"nope\""},
		{name: "replica primary not an address", config: withKeys(key, "server: {dataDir: d}", "zones:", "  - name: z.example", "    registration: {primary: 'ns1.example', primaryKey: xfr}"), line: 13, key: "zones[0].registration.primary", wantMsg: "want an IP address"},
		{name: "registration with an unknown key", config: withMinimal("server: {dataDir: d}", "zones:", "  - name: z.example", "    registration:", "      tsigKeys: [dhcp]"), line: 12, key: "zones[0].registration.tsigKeys[0]", wantMsg: `unknown TSIG key "dhcp"`},
		{name: "registration ttl zero", config: withMinimal("server: {dataDir: d}", "zones:", "  - name: z.example", "    registration:", "      ttl: 0s"), line: 12, key: "zones[0].registration.ttl", wantMsg: "above 0"},
		{name: "transfer must be a mapping", config: withMinimal("zones:", "  - name: z.example", "    records: ['@ IN NS ns.example.']", "    transfer: [10.0.0.0/8]"), line: 11, key: "zones[0].transfer", wantMsg: "must be a mapping"},
		{name: "dataDir must be a string", config: withMinimal("server:", "  dataDir: [a]"), line: 9, key: "server.dataDir", wantMsg: "must be a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"privdns.yaml": c.config}
			for name, content := range c.files {
				files[name] = content
			}
			dir := writeFiles(t, files)
			path := filepath.Join(dir, "privdns.yaml")
			errs := problemsOf(t, path)
			if len(errs) != 1 {
				t.Fatalf("got %d problems, want exactly one:\n%v", len(errs), errs)
			}
			p := errs[0]
			if p.File != path || p.Line != c.line || p.Key != c.key || !strings.Contains(p.Msg, c.wantMsg) {
				t.Errorf("problem = %q\nwant %s:%d: %s: …%s…", p.Error(), path, c.line, c.key, c.wantMsg)
			}
			if strings.Contains(p.Error(), secret32) {
				t.Errorf("the problem quotes the secret: %q", p.Error())
			}
		})
	}
}

func TestTransferConfigurationLoads(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"etc/privdns.yaml": withMinimal(
			"server:",
			"  dataDir: ../var/privdns",
			"tsigKeys:",
			"  - {name: Xfr, algorithm: HMAC-SHA256, secret: '"+secret32+"'}",
			"  - {name: notify.key., algorithm: hmac-sha512, secretFile: keys/n.key}",
			"zones:",
			"  - name: corp.example",
			"    primaries: ['10.10.0.4', '[fd00::4]:5300']",
			"    tsigKey: XFR",
			"    links: [{name: l, network: net-a}]",
			"  - name: blob.example",
			"    records: ['@ 60 IN NS ns1.example.']",
			"    transfer:",
			"      allow: [10.10.0.0/24, 10.20.0.7, '::ffff:10.30.0.0/120']",
			"      tsigKey: notify.key",
			"      notify: [10.10.0.5, '10.10.0.6:5353']",
		),
		"etc/keys/n.key": "  " + secret32 + "\n",
	})
	path := filepath.Join(dir, "etc", "privdns.yaml")
	cfg := mustLoad(t, path)
	wantKeys := []TSIGKey{
		{Name: "xfr.", Algorithm: "hmac-sha256", Secret: secret32},
		{Name: "notify.key.", Algorithm: "hmac-sha512", Secret: secret32, SecretFile: filepath.Join(dir, "etc", "keys", "n.key")},
	}
	sec, blob := cfg.Zones[0], cfg.Zones[1]
	wantTransfer := &Transfer{
		Allow:   []netip.Prefix{netip.MustParsePrefix("10.10.0.0/24"), netip.MustParsePrefix("10.20.0.7/32"), netip.MustParsePrefix("10.30.0.0/24")},
		TSIGKey: "notify.key.",
		Notify:  []string{"10.10.0.5:53", "10.10.0.6:5353"},
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"keys", cfg.TSIGKeys, wantKeys},
		{"dataDir relative to the configuration file", cfg.Server.DataDir, filepath.Join(dir, "var", "privdns")},
		{"primaries", sec.Primaries, []string{"10.10.0.4:53", "[fd00::4]:5300"}},
		{"secondary", sec.Secondary(), true},
		{"secondary key", sec.TSIGKey, "xfr."},
		{"secondary data", sec.Data == nil, true},
		{"file zone data", blob.Data != nil, true},
		{"file zone is no secondary", blob.Secondary(), false},
		{"transfer", blob.Transfer, wantTransfer},
		{"no transfer", sec.Transfer == nil, true},
		{"warnings", cfg.Warnings, []string(nil)},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

func TestDataDirFromTheEnvironment(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": minimal})
	t.Setenv("PRIVDNS_SERVER_DATADIR", "/var/lib/privdns")
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	if cfg.Server.DataDir != "/var/lib/privdns" {
		t.Errorf("dataDir = %q, want /var/lib/privdns", cfg.Server.DataDir)
	}
}

func TestEmptyAllowWithNotifyIsAWarning(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"zones:",
		"  - name: z.example",
		"    records: ['@ IN NS ns.example.']",
		"    links: [{name: l, network: net-a}]",
		"    transfer: {notify: [10.0.0.5]}",
	)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "zones[0].transfer.allow: empty") {
		t.Errorf("warnings = %q, want one about the empty allow list", cfg.Warnings)
	}
}

func TestFilesNamesSecretFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": lines(
		"tsigKeys:",
		"  - {name: a, algorithm: hmac-sha256, secretFile: keys/a.key}",
		"  - {name: b, algorithm: hmac-sha256, secret: x}",
		"  - {name: c, algorithm: hmac-sha256, secretFile: /etc/c.key}",
	)})
	got := Files(filepath.Join(dir, "privdns.yaml"))
	want := []string{filepath.Join(dir, "privdns.yaml"), filepath.Join(dir, "keys", "a.key"), "/etc/c.key"}
	if !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q", got, want)
	}
}

// A replica zone (R13) is a secondary of its registration.primary, signed
// with primaryKey, unless it names its primaries itself.
func TestReplicaConfigurationLoads(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"server: {dataDir: data}",
		"tsigKeys:",
		"  - {name: replica, algorithm: hmac-sha256, secret: '"+secret32+"'}",
		"  - {name: xfr, algorithm: hmac-sha256, secret: '"+secret32+"'}",
		"zones:",
		"  - name: corp.example",
		"    registration: {primary: 10.10.0.4, primaryKey: REPLICA}",
		"    links: [{name: l, network: net-a, registrationEnabled: true}]",
		"  - name: dev.example",
		"    tsigKey: XFR",
		"    registration: {primary: 10.10.0.4, primaryKey: replica}",
		"  - name: test.example",
		"    primaries: [10.10.0.4]",
		"    registration: {primary: 10.10.0.4, primaryKey: replica}",
		"  - name: lab.example",
		"    primaries: ['10.10.0.9:5300']",
		"    tsigKey: xfr",
		"    registration: {primary: '10.10.0.4:5353', primaryKey: replica}",
	)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	corp, dev, test, lab := cfg.Zones[0], cfg.Zones[1], cfg.Zones[2], cfg.Zones[3]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"replica mode", corp.Registration.Replica(), true},
		{"primary with its port", corp.Registration.Primary, "10.10.0.4:53"},
		{"primary key", corp.Registration.PrimaryKey, "replica."},
		{"primaries default to the primary", corp.Primaries, []string{"10.10.0.4:53"}},
		{"transfers signed with primaryKey", corp.TSIGKey, "replica."},
		{"transfers signed with the zone's tsigKey", dev.TSIGKey, "xfr."},
		{"its primaries", dev.Primaries, []string{"10.10.0.4:53"}},
		{"primaries named", lab.Primaries, []string{"10.10.0.9:5300"}},
		{"transfer key named", lab.TSIGKey, "xfr."},
		{"forwarded elsewhere", lab.Registration.Primary, "10.10.0.4:5353"},
		{"primaries written out, transfers still signed with primaryKey", test.TSIGKey, "replica."},
		{"a warning for primaries that are not the primary", countContaining(cfg.Warnings, "not among the primaries"), 1},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func countContaining(lines []string, part string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, part) {
			n++
		}
	}
	return n
}
