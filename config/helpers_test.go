package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name → content into a fresh folder and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustLoad loads a configuration that must be valid.
func mustLoad(t *testing.T, path string) *Config {
	t.Helper()
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s):\n%v", path, err)
	}
	return cfg
}

// problemsOf loads a configuration that must be invalid and returns its
// problems.
func problemsOf(t *testing.T, path string) Errors {
	t.Helper()
	cfg, err := Load(path)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load(%s) = %v, %v; want Errors", path, cfg, err)
	}
	return errs
}

// minimal is the smallest valid configuration; cases append to it.
const minimal = `upstreams:
  servers: ["192.0.2.53"]
networks:
  - name: net-a
    addressPrefixes: ["10.1.0.0/16"]
  - name: net-b
    addressPrefixes: ["10.2.0.0/16"]
`

// lines joins lines with newlines, so line numbers in tests are countable.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
