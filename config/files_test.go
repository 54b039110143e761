package config

import (
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
