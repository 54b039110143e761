package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestServerAdminAndLocalZones(t *testing.T) {
	for _, tc := range []struct {
		name        string
		config      string
		wantAdmin   string
		wantLocal   bool
		wantLine    int
		wantProblem string // "" = valid
	}{
		{name: "defaults: admin off, local zones on", config: minimal, wantLocal: true},
		{name: "admin on its own address", config: withMinimal("server:", "  http: 127.0.0.1:9153", "  admin: 127.0.0.1:9154", "  localZones: false"), wantAdmin: "127.0.0.1:9154"},
		{name: "port 0 twice: two fresh ports", config: withMinimal("server:", "  http: 127.0.0.1:0", "  admin: 127.0.0.1:0"), wantAdmin: "127.0.0.1:0", wantLocal: true},
		{name: "admin on server.http's address", config: withMinimal("server:", "  http: 127.0.0.1:9153", "  admin: 127.0.0.1:9153"), wantLine: 10, wantProblem: `server.admin: "127.0.0.1:9153" is server.http's address`},
		{name: "admin on server.http's address spelt otherwise", config: withMinimal("server:", "  admin: '[::ffff:127.0.0.1]:9153'"), wantLine: 9, wantProblem: "is server.http's address"},
		{name: "admin not host:port", config: withMinimal("server:", "  admin: 9154"), wantLine: 9, wantProblem: `server.admin: "9154" is not host:port`},
		{name: "localZones not a boolean", config: withMinimal("server:", "  localZones: sometimes"), wantLine: 9, wantProblem: "server.localZones: must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"privdns.yaml": tc.config})
			path := filepath.Join(dir, "privdns.yaml")
			if tc.wantProblem == "" {
				cfg := mustLoad(t, path)
				if cfg.Server.Admin != tc.wantAdmin || cfg.Server.LocalZones != tc.wantLocal {
					t.Errorf("admin %q localZones %v, want %q %v", cfg.Server.Admin, cfg.Server.LocalZones, tc.wantAdmin, tc.wantLocal)
				}
				return
			}
			errs := problemsOf(t, path)
			if len(errs) != 1 || errs[0].Line != tc.wantLine || !strings.Contains(errs[0].Error(), tc.wantProblem) || errs[0].File != path {
				t.Errorf("problems %v, want one at %s:%d containing %q", errs, path, tc.wantLine, tc.wantProblem)
			}
		})
	}
}

func TestDefaultConfigurationServesLocalZones(t *testing.T) {
	cfg, err := defaultFrom(filepath.Join(t.TempDir(), "absent"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Server.LocalZones || cfg.Server.Admin != "" {
		t.Errorf("default: localZones %v admin %q, want true and off", cfg.Server.LocalZones, cfg.Server.Admin)
	}
}
