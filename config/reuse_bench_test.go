package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeMillion writes the configuration of .ci/bench-scale's million
// records: 1,000 zone files of 1,000 A records, each zone linked.
func writeMillion(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	var cfg strings.Builder
	cfg.WriteString(minimal + "zones:\n")
	for i := range 1000 {
		name := fmt.Sprintf("z%d.privatelink.scale.example", i)
		var z strings.Builder
		z.WriteString("$TTL 10\n@ IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10\n")
		for j := range 1000 {
			fmt.Fprintf(&z, "h%d IN A 10.%d.%d.%d\n", j, i%250, j/250, j%250+1)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".zone"), []byte(z.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&cfg, "  - {name: %s, file: %s.zone, links: [{name: l%d, network: net-a}]}\n", name, name, i)
	}
	path := filepath.Join(dir, "privdns.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkReloadMillion reloads the million records with one zone file
// of the thousand edited before each reload ("one edited", which parses
// one zone and hashes the others' files) and with none kept ("none kept",
// Load: every zone parsed). Run with -bench ReloadMillion -benchtime 5x.
func BenchmarkReloadMillion(b *testing.B) {
	path := writeMillion(b)
	edited := filepath.Join(filepath.Dir(path), "z500.privatelink.scale.example.zone")
	b.Run("one edited", func(b *testing.B) {
		prev, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			b.StopTimer()
			n++
			f, err := os.OpenFile(edited, os.O_APPEND|os.O_WRONLY, 0)
			if err == nil {
				_, err = fmt.Fprintf(f, "added%d IN A 10.255.0.1\n", n)
				f.Close()
			}
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			cfg, err := Reload(path, prev)
			if err != nil {
				b.Fatal(err)
			}
			if cfg.Zones[500].Data == prev.Zones[500].Data || cfg.Zones[0].Data != prev.Zones[0].Data {
				b.Fatal("the edited zone kept, or an unchanged one parsed again")
			}
			prev = cfg
		}
	})
	b.Run("none kept", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Load(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}
