package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/viper"
)

// envPrefix starts every environment variable that overrides a scalar key.
const envPrefix = "PRIVDNS"

const defaultListener = "127.0.0.1:1053"

// scalarDefaults holds every key outside a list with its default. Viper
// only finds PRIVDNS_… overrides for keys it knows, so all are registered.
var scalarDefaults = map[string]any{
	"server.http":                           "127.0.0.1:9153",
	"server.admin":                          "",
	"server.localZones":                     true,
	"server.identity":                       "",
	"server.explain":                        true,
	"server.unknownClients":                 "refuse",
	"server.log.level":                      "info",
	"server.log.format":                     "text",
	"server.log.queries":                    false,
	"server.log.querySampling":              1.0,
	"server.limits.inFlight":                10000,
	"server.limits.tcpConnections":          1000,
	"server.limits.tcpIdleTimeout":          "10s",
	"server.limits.tcpQueriesPerConnection": 0,
	"server.limits.upstreamQueriesPerQuery": 16,
	"server.rateLimit.enabled":              false,
	"server.rateLimit.queriesPerSecond":     200,
	"server.rateLimit.burst":                400,
	"server.rateLimit.slip":                 2,
	"upstreams.policy":                      "sequential",
	"upstreams.timeout":                     "2s",
	"cache.maxEntries":                      100000,
	"cache.minTTL":                          "0s",
	"cache.maxTTL":                          "24h",
	"cache.maxNegativeTTL":                  "1h",
	"cache.serveStale.enabled":              true,
	"cache.serveStale.answerTTL":            "30s",
	"cache.serveStale.maxAge":               "24h",
	"cache.prefetch":                        true,
	"server.dataDir":                        "",
	"defaults.resolutionPolicy":             "Default",
}

// Load reads, validates and completes the configuration file at path. The
// format follows the extension (.yaml/.yml, .json, .toml; YAML otherwise).
// The error, if any, is Errors holding every problem found.
func Load(path string) (*Config, error) { return Reload(path, nil) }

// Reload is Load for a configuration that replaces prev (nil: none). A
// zone of a file or inline records whose name, file and records are as in
// prev, and whose files still hold the bytes prev's data was parsed from
// (zones.Zone.FilesUnchanged), keeps prev's data, the same *zones.Zone,
// instead of being parsed again: a reload that edits one zone file of a
// thousand parses one.
func Reload(path string, prev *Config) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, Errors{{File: path, Msg: fmt.Sprintf("read configuration: %v", err)}}
	}
	return parseWith(data, "", path, "/etc/resolv.conf", prev)
}

// Parse is Load for text already in memory. format is "yaml", "json" or
// "toml" ("" = from the extension of path). path names the file in
// problems and anchors relative zone files ("" = the working directory).
//
// A configuration without upstreams.servers forwards to the nameservers of
// /etc/resolv.conf, with a warning, as the embedded default does.
func Parse(data []byte, format, path string) (*Config, error) {
	return parseWith(data, format, path, "/etc/resolv.conf", nil)
}

// parseWith is Parse with the resolv.conf that supplies the default
// upstreams (injectable for tests) and the configuration it replaces.
func parseWith(data []byte, format, path, resolvConf string, prev *Config) (*Config, error) {
	servers, why := nameservers(resolvConf)
	cfg, err := parse(data, format, path, servers, prev)
	if err != nil || !cfg.serversDefaulted {
		return cfg, err
	}
	msg := fmt.Sprintf("upstreams.servers: not set; forwarding to the nameservers of %s: %s", resolvConf, strings.Join(cfg.Upstreams.Servers, ", "))
	if why != "" {
		msg = "upstreams.servers: not set; " + why
	}
	if path != "" {
		msg = path + ": " + msg
	}
	cfg.Warnings = append(cfg.Warnings, msg)
	return cfg, nil
}

// parse is Parse with the default of upstreams.servers and the
// configuration whose unchanged zones it keeps (nil: none).
func parse(data []byte, format, path string, servers []string, prev *Config) (*Config, error) {
	if format == "" {
		format = formatOf(path)
	}
	if format == "yml" {
		format = "yaml"
	}
	r := newReport(path, nil)
	tree, err := read(r, data, format, servers)
	if err != nil {
		return nil, err
	}
	cfg := decode(node{r: r, m: tree})
	r.unknownKeys(tree)
	validate(r, cfg)
	validateTransfers(r, cfg, filepath.Dir(path))
	loadZones(r, cfg, filepath.Dir(path), prev)
	checkTransferApex(r, cfg)
	if len(r.problems) > 0 {
		return nil, r.sorted()
	}
	cfg.Warnings = r.warnings
	cfg.serversDefaulted = r.serversDefaulted && os.Getenv(envPrefix+"_UPSTREAMS_SERVERS") == ""
	if path != "" {
		if cfg.File, err = filepath.Abs(path); err != nil {
			return nil, Errors{{File: path, Msg: fmt.Sprintf("absolute path: %v", err)}}
		}
	}
	return cfg, nil
}

// read parses the text with viper and returns its settings with every
// scalar key filled from the environment or the defaults.
func read(r *report, data []byte, format string, servers []string) (map[string]any, error) {
	switch format {
	case "yaml", "json":
		scan, err := yamlPositions(data)
		if err != nil && format == "yaml" {
			return nil, syntaxProblems(r.file, data, err)
		}
		if err := r.useScan(scan); err != nil { // no lines when YAML cannot read the JSON
			return nil, err
		}
	case "toml":
		// A syntax error is left for viper's decoder, which names its line.
		scan, err := tomlPositions(data)
		if err != nil {
			break
		}
		if err := r.useScan(scan); err != nil {
			return nil, err
		}
	default:
		return nil, Errors{{File: r.file, Msg: fmt.Sprintf("unsupported configuration format %q (want yaml, json or toml)", format)}}
	}
	v := viper.New()
	v.SetConfigType(format)
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, syntaxProblems(r.file, data, err)
	}
	tree := v.AllSettings() // the file alone: the environment applies to scalars only
	r.serversDefaulted = !v.IsSet("upstreams.servers")

	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AllowEmptyEnv(true) // PRIVDNS_SERVER_HTTP="" switches the HTTP server off
	v.AutomaticEnv()
	for key, value := range scalarDefaults {
		v.SetDefault(key, value)
	}
	v.SetDefault("upstreams.servers", servers)
	for key := range scalarDefaults {
		setPath(tree, strings.ToLower(key), v.Get(key))
	}
	setPath(tree, "upstreams.servers", envList(v.Get("upstreams.servers")))
	return tree, nil
}

// useScan keeps what the second reading of the text learnt. An alias bomb
// or keys viper cannot place end the load at once, as syntax errors do.
func (r *report) useScan(scan keyScan) error {
	located := func(ps ...Problem) Errors {
		for i := range ps {
			ps[i].File = r.file
		}
		return ps
	}
	switch {
	case scan.bomb != nil:
		return located(*scan.bomb)
	case len(scan.badKeys) > 0:
		return located(scan.badKeys...)
	}
	r.positions = scan.ps
	r.problems = append(r.problems, located(scan.twice...)...)
	return nil
}

// envList splits a list given as one environment variable ("a b" or
// "a,b") and returns any other value as it is.
func envList(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	var out []any
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, item)
	}
	return out
}

// setPath stores value at a dotted key, creating mappings on the way. A
// non-mapping on the way is left alone for the decoder to report.
func setPath(tree map[string]any, key string, value any) {
	parts := strings.Split(key, ".")
	m := tree
	for _, p := range parts[:len(parts)-1] {
		switch next := m[p].(type) {
		case nil:
			child := map[string]any{}
			m[p] = child
			m = child
		case map[string]any:
			m = next
		default:
			return
		}
	}
	m[parts[len(parts)-1]] = value
}

func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return "json"
	case ".toml":
		return "toml"
	default:
		return "yaml"
	}
}
