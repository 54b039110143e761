package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultsResolutionPolicyAppliesToLinksThatNameNone(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"defaults: {resolutionPolicy: nxdomainredirect}",
		"zones:",
		"  - name: privatelink.blob.core.windows.net",
		"    links:",
		"      - {name: a, network: net-a}",
		"      - {name: b, network: net-b, resolutionPolicy: Default}",
	)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	links := cfg.Zones[0].Links
	if links[0].ResolutionPolicy != "NxDomainRedirect" || links[1].ResolutionPolicy != "Default" {
		t.Errorf("policies = %s, %s; want NxDomainRedirect (the default) and Default (its own)", links[0].ResolutionPolicy, links[1].ResolutionPolicy)
	}
	if cfg.Defaults.ResolutionPolicy != "NxDomainRedirect" || len(cfg.Warnings) != 0 {
		t.Errorf("defaults = %+v, warnings %q", cfg.Defaults, cfg.Warnings)
	}
}

func TestDefaultsResolutionPolicyIsDefaultWhenAbsent(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"zones:",
		"  - {name: z.example, links: [{name: a, network: net-a}]}",
	)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	if cfg.Defaults.ResolutionPolicy != "Default" || cfg.Zones[0].Links[0].ResolutionPolicy != "Default" {
		t.Errorf("defaults %+v, link %+v; want Default", cfg.Defaults, cfg.Zones[0].Links[0])
	}
}

func TestBadDefaultsResolutionPolicyIsOneProblemAtItsLine(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"defaults:",
		"  resolutionPolicy: Fallback",
		"zones:",
		"  - name: z.example",
		"    links: [{name: a, network: net-a}, {name: b, network: net-b}]",
	)})
	path := filepath.Join(dir, "privdns.yaml")
	errs := problemsOf(t, path)
	want := path + `:9: defaults.resolutionPolicy: "Fallback" is not one of Default, NxDomainRedirect`
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("problems:\n%v\nwant just %s", errs, want)
	}
}

func TestDefaultsResolutionPolicyFromTheEnvironment(t *testing.T) {
	t.Setenv("PRIVDNS_DEFAULTS_RESOLUTIONPOLICY", "NxDomainRedirect")
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"zones:",
		"  - {name: privatelink.z.example, links: [{name: a, network: net-a}]}",
	)})
	cfg := mustLoad(t, filepath.Join(dir, "privdns.yaml"))
	if got := cfg.Zones[0].Links[0].ResolutionPolicy; got != "NxDomainRedirect" {
		t.Errorf("policy = %s, want NxDomainRedirect from $PRIVDNS_DEFAULTS_RESOLUTIONPOLICY", got)
	}
	t.Setenv("PRIVDNS_DEFAULTS_RESOLUTIONPOLICY", "Sometimes")
	errs := problemsOf(t, filepath.Join(dir, "privdns.yaml"))
	if len(errs) != 1 || errs[0].Key != "defaults.resolutionPolicy" || !strings.Contains(errs[0].Msg, "$PRIVDNS_DEFAULTS_RESOLUTIONPOLICY") {
		t.Errorf("problems %v, want one at defaults.resolutionPolicy naming the variable", errs)
	}
}

func TestPrivatelinkWarningUsesTheEffectivePolicy(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"defaults: {resolutionPolicy: NxDomainRedirect}",
		"zones:",
		"  - name: corp.example",
		"    links:",
		"      - {name: inherits, network: net-a}",
		"      - {name: own, network: net-b, resolutionPolicy: Default}",
	)})
	path := filepath.Join(dir, "privdns.yaml")
	cfg := mustLoad(t, path)
	want := path + ":12: zones[0].links[0].resolutionPolicy: NxDomainRedirect (from defaults.resolutionPolicy) on zone corp.example., which has no privatelink label"
	if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], want) {
		t.Errorf("warnings = %q, want one starting %q", cfg.Warnings, want)
	}
}
