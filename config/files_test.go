package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFilesNamesZoneFilesEvenOfABrokenConfiguration(t *testing.T) {
	dir := writeFiles(t, map[string]string{"privdns.yaml": lines(
		"zones:",
		"  - name: a.example",
		"    file: zones/a.zone",
		"  - name: b.example",
		"    file: /abs/b.zone",
		"  - name: c.example",
		"    records: ['www 60 IN A 10.0.0.1']",
		"    links: [{name: l, network: no-such-network}]",
	)})
	got := Files(filepath.Join(dir, "privdns.yaml"))
	want := []string{filepath.Join(dir, "privdns.yaml"), filepath.Join(dir, "zones", "a.zone"), "/abs/b.zone"}
	if !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q", got, want)
	}
	if got := Files(filepath.Join(dir, "missing.yaml")); len(got) != 1 {
		t.Errorf("a missing file: %q, want just itself", got)
	}
}

func TestFilesFollowsIncludes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"privdns.yaml": lines("zones:", "  - name: a.example", "    file: a.zone"),
		"a.zone":       lines("$ORIGIN a.example.", "$INCLUDE inc/b.zone", "www 60 IN A 10.0.0.1"),
	})
	if err := os.Mkdir(filepath.Join(dir, "inc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "inc", "b.zone"), []byte("$include c.zone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := Files(filepath.Join(dir, "privdns.yaml"))
	want := []string{filepath.Join(dir, "privdns.yaml"), filepath.Join(dir, "a.zone"),
		filepath.Join(dir, "inc", "b.zone"), filepath.Join(dir, "inc", "c.zone")}
	if !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q", got, want)
	}
}
