package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// reuseConfig has a zone of a file with an $INCLUDE, one of a file and one
// of inline records only.
var reuseConfig = withMinimal(
	"zones:",
	"  - name: a.example",
	"    file: a.zone",
	"    links: [{name: la, network: net-a}]",
	"  - name: b.example",
	"    file: b.zone",
	"    links: [{name: lb, network: net-a}]",
	"  - name: c.example",
	"    records: [\"x IN A 10.0.3.1\"]",
	"    links: [{name: lc, network: net-a}]",
)

func reuseFiles() map[string]string {
	return map[string]string{
		"privdns.yaml": reuseConfig,
		"a.zone":       lines("x IN A 10.0.1.1", "$INCLUDE a-more.zone"),
		"a-more.zone":  lines("y IN A 10.0.1.2"),
		"b.zone":       lines("x IN A 10.0.2.1"),
	}
}

// rewrite changes a file's bytes but keeps its size and modification time,
// as an edit within the same second of a coarse clock looks to stat.
func rewrite(t *testing.T, path, text string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(text)) != fi.Size() {
		t.Fatalf("rewrite %s: %d bytes for %d", path, len(text), fi.Size())
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

func answerOf(t *testing.T, cfg *Config, zone int, name string) string {
	t.Helper()
	r := cfg.Zones[zone].Data.Lookup(name, dns.TypeA)
	if len(r.Records) != 1 {
		return r.Kind.String()
	}
	return r.Records[0].(*dns.A).A.String()
}

// TestReloadKeepsTheDataOfUnchangedZones: a reload parses again only the
// zones whose files (master or $INCLUDE), records or name changed; the
// others keep the same *zones.Zone. An edit that keeps size and mtime is
// still seen.
func TestReloadKeepsTheDataOfUnchangedZones(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(t *testing.T, dir string)
		rebuilt []bool // by zone: a, b, c
		check   func(t *testing.T, cfg *Config)
	}{
		{name: "nothing changed", edit: func(*testing.T, string) {}, rebuilt: []bool{false, false, false}},
		{
			name: "touched, same bytes",
			edit: func(t *testing.T, dir string) {
				later := time.Now().Add(time.Hour)
				if err := os.Chtimes(filepath.Join(dir, "b.zone"), later, later); err != nil {
					t.Fatal(err)
				}
			},
			rebuilt: []bool{false, false, false},
		},
		{
			name:    "master file edited, same size and mtime",
			edit:    func(t *testing.T, dir string) { rewrite(t, filepath.Join(dir, "b.zone"), lines("x IN A 10.0.2.9")) },
			rebuilt: []bool{false, true, false},
			check: func(t *testing.T, cfg *Config) {
				if got := answerOf(t, cfg, 1, "x.b.example."); got != "10.0.2.9" {
					t.Errorf("x.b.example. = %s, want the edited 10.0.2.9", got)
				}
			},
		},
		{
			name: "included file edited, same size and mtime",
			edit: func(t *testing.T, dir string) {
				rewrite(t, filepath.Join(dir, "a-more.zone"), lines("y IN A 10.0.1.8"))
			},
			rebuilt: []bool{true, false, false},
			check: func(t *testing.T, cfg *Config) {
				if got := answerOf(t, cfg, 0, "y.a.example."); got != "10.0.1.8" {
					t.Errorf("y.a.example. = %s, want the edited 10.0.1.8", got)
				}
			},
		},
		{
			name: "file grown",
			edit: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "b.zone"), []byte(lines("x IN A 10.0.2.1", "z IN A 10.0.2.2")), 0o644)
			},
			rebuilt: []bool{false, true, false},
			check: func(t *testing.T, cfg *Config) {
				if got := answerOf(t, cfg, 1, "z.b.example."); got != "10.0.2.2" {
					t.Errorf("z.b.example. = %s, want the added 10.0.2.2", got)
				}
			},
		},
		{
			name: "inline records changed",
			edit: func(t *testing.T, dir string) {
				text := replaceOnce(t, reuseConfig, `x IN A 10.0.3.1`, `x IN A 10.0.3.2`)
				os.WriteFile(filepath.Join(dir, "privdns.yaml"), []byte(text), 0o644)
			},
			rebuilt: []bool{false, false, true},
			check: func(t *testing.T, cfg *Config) {
				if got := answerOf(t, cfg, 2, "x.c.example."); got != "10.0.3.2" {
					t.Errorf("x.c.example. = %s, want the edited 10.0.3.2", got)
				}
			},
		},
		{
			name: "file of another zone",
			edit: func(t *testing.T, dir string) {
				text := replaceOnce(t, reuseConfig, "file: b.zone", "file: b2.zone")
				os.WriteFile(filepath.Join(dir, "privdns.yaml"), []byte(text), 0o644)
				os.WriteFile(filepath.Join(dir, "b2.zone"), []byte(lines("x IN A 10.0.2.1")), 0o644)
			},
			rebuilt: []bool{false, true, false},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeFiles(t, reuseFiles())
			path := filepath.Join(dir, "privdns.yaml")
			prev := mustLoad(t, path)
			c.edit(t, dir)
			cfg, err := Reload(path, prev)
			if err != nil {
				t.Fatalf("Reload: %v", err)
			}
			for i, want := range c.rebuilt {
				if got := cfg.Zones[i].Data != prev.Zones[i].Data; got != want {
					t.Errorf("zone %s rebuilt = %v, want %v", cfg.Zones[i].Name, got, want)
				}
			}
			if c.check != nil {
				c.check(t, cfg)
			}
			// Load alone never reuses.
			again := mustLoad(t, path)
			for i := range again.Zones {
				if again.Zones[i].Data == prev.Zones[i].Data {
					t.Errorf("Load kept the data of %s", again.Zones[i].Name)
				}
			}
		})
	}
}

// TestReloadOfARemovedZoneFileFails: a zone file gone is the error it is
// at a first load, not the old data kept.
func TestReloadOfARemovedZoneFileFails(t *testing.T) {
	dir := writeFiles(t, reuseFiles())
	path := filepath.Join(dir, "privdns.yaml")
	prev := mustLoad(t, path)
	if err := os.Remove(filepath.Join(dir, "a-more.zone")); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Reload(path, prev); err == nil {
		t.Fatalf("Reload = %v zones, want an error for the missing $INCLUDE", len(cfg.Zones))
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q not in the text", old)
	}
	return strings.Replace(s, old, new, 1)
}

// TestReloadOfFilesRewrittenAlikeKeepsTheirData: a reload after every
// zone file was edited (a comment added to each, a record to one) loads
// the changed record, gives the others prev's data again (the same
// records, no second copy held) and, the next time, finds them unchanged.
func TestReloadOfFilesRewrittenAlikeKeepsTheirData(t *testing.T) {
	dir := writeFiles(t, reuseFiles())
	path := filepath.Join(dir, "privdns.yaml")
	prev := mustLoad(t, path)
	for _, f := range []string{"a.zone", "a-more.zone", "b.zone"} {
		appendTo(t, filepath.Join(dir, f), "; edited\n")
	}
	appendTo(t, filepath.Join(dir, "b.zone"), "added IN A 10.0.2.7\n")
	cfg, err := Reload(path, prev)
	if err != nil {
		t.Fatal(err)
	}
	if got := answerOf(t, cfg, 1, "added.b.example."); got != "10.0.2.7" {
		t.Errorf("added.b.example. = %s, want the added 10.0.2.7", got)
	}
	if got := answerOf(t, cfg, 0, "y.a.example."); got != "10.0.1.2" {
		t.Errorf("y.a.example. = %s, want 10.0.1.2", got)
	}
	// Where the record's address is stored: the zone's data, whose
	// records are made afresh by every lookup.
	rr := func(c *Config, zone int, name string) *byte {
		return &c.Zones[zone].Data.Lookup(name, dns.TypeA).Records[0].(*dns.A).A[0]
	}
	if rr(cfg, 0, "y.a.example.") != rr(prev, 0, "y.a.example.") {
		t.Error("a.example, rewritten alike, holds a second copy of its records")
	}
	if rr(cfg, 1, "x.b.example.") == rr(prev, 1, "x.b.example.") {
		t.Error("b.example, changed, shares prev's records")
	}
	if !cfg.Zones[0].Data.FilesUnchanged() {
		t.Error("a.example's kept data does not know its files' new bytes")
	}
	again, err := Reload(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range again.Zones {
		if again.Zones[i].Data != cfg.Zones[i].Data {
			t.Errorf("zone %s parsed again with no edit since", again.Zones[i].Name)
		}
	}
	// A broken file among files rewritten alike still rejects the reload.
	appendTo(t, filepath.Join(dir, "a.zone"), "; again\n")
	appendTo(t, filepath.Join(dir, "b.zone"), "bad IN A not-an-address\n")
	if _, err := Reload(path, again); err == nil || !strings.Contains(err.Error(), "b.zone") {
		t.Errorf("Reload with a broken b.zone: %v, want its error", err)
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
