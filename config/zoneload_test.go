package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestZoneWarningsNameTheirLine: what zones.Load repairs (RFC 2181) is a
// warning at load and in `privdns check`, located like a zone error: the
// zone file's line, or the inline record's line in the configuration.
func TestZoneWarningsNameTheirLine(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"privdns.yaml": withMinimal(
			"zones:",
			"  - name: z.example",
			"    file: zones/z.zone",
			"    records:",
			"      - a 30 IN A 10.0.0.3",
			"    links: [{name: l, network: net-a}]",
		),
		"zones/z.zone": lines(
			"$TTL 300",
			"a IN A 10.0.0.1",
			"a 60 IN A 10.0.0.2",
			"@ IN MX 10 www",
			"www IN CNAME a",
		),
	})
	path := filepath.Join(dir, "privdns.yaml")
	cfg := mustLoad(t, path)
	zone := filepath.Join(dir, "zones/z.zone")
	want := []string{
		zone + ":3: zones[0].file: a.z.example.: A record: TTL 60 differs from the TTL of its RRset (RFC 2181 §5.2); set to prior TTL 300",
		path + ":12: zones[0].records[0]: a.z.example.: A record: TTL 30 differs from the TTL of its RRset (RFC 2181 §5.2); set to prior TTL 300",
		zone + ":4: zones[0].file: z.example.: MX target www.z.example. is an alias (CNAME) in this zone; RFC 2181 §10.3 wants the name the CNAME points to",
	}
	if strings.Join(cfg.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings =\n%s\nwant\n%s", strings.Join(cfg.Warnings, "\n"), strings.Join(want, "\n"))
	}
	r := cfg.Zones[0].Data.Lookup("a.z.example.", dns.TypeA)
	for _, rr := range r.Records {
		if rr.Header().Ttl != 300 {
			t.Errorf("%s: want TTL 300 for the whole RRset", rr)
		}
	}
}

// TestZoneNameTooLongIsAProblem: an error of the RFC 2181 checks is a
// problem like any zone error.
func TestZoneNameTooLongIsAProblem(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 63)+".", 4)
	dir := writeFiles(t, map[string]string{"privdns.yaml": withMinimal(
		"zones:",
		"  - name: z.example",
		"    records:",
		"      - x IN CNAME "+long,
	)})
	path := filepath.Join(dir, "privdns.yaml")
	errs := problemsOf(t, path)
	if len(errs) != 1 || errs[0].Line != 11 || errs[0].Key != "zones[0].records[0]" || !strings.Contains(errs[0].Msg, "longer than 255 octets") {
		t.Errorf("problems = %v, want the long CNAME target at line 11", errs)
	}
}
