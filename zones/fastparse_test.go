package zones

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// readBoth reads the master file text with fastRecords and with the zone
// parser (eachRecord). ok is whether the fast reader accepted it; then
// both lists are the records as zone-file lines with their locations.
func readBoth(t testing.TB, origin, text string) (fast, slow []string, ok bool, slowErr *Error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "z.zone")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	show := func(out *[]string) func(entry) {
		return func(e entry) { *out = append(*out, fmt.Sprintf("%d: %s", e.loc.Line, e.rr.String())) }
	}
	fs, ok := fastRecords(origin, file, show(&fast))
	ss, slowErr := eachRecord(origin, file, show(&slow))
	if ok && slowErr == nil && (len(fs) != 1 || *fs[0] != *ss[0]) {
		t.Errorf("sources: fast %v, zone parser %v", fs, ss)
	}
	return fast, slow, ok, slowErr
}

// The fast reader reads the files it accepts record for record, line for
// line, as the zone parser does: owners (relative, absolute, @, blank),
// $TTL and $ORIGIN, the last TTL stated, TTL and class in either order,
// other types with relative names in their data.
func TestFastRecordsReadsAsTheZoneParser(t *testing.T) {
	cases := map[string]string{
		"the bench shape": "$TTL 10\n@ IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10\n" +
			"@ IN NS ns.scale.example.\nh0 IN A 10.0.0.1\nh1 IN A 10.0.0.2\n",
		"no $TTL: the last TTL stated": "a IN A 10.0.0.1\nb 60 IN A 10.0.0.2\nc IN A 10.0.0.3\nd in 30 a 10.0.0.4\ne IN A 10.0.0.5\n",
		"$TTL wins over stated TTLs":   "$TTL 300\na 60 IN A 10.0.0.1\nb IN A 10.0.0.2\n$ttl 20\nc A 10.0.0.3\n",
		"blank owners": "a 60 IN A 10.0.0.1\n  IN A 10.0.0.2\n\t70 AAAA fd00::1\nb IN TXT hello world\n" +
			"  IN A 10.0.0.3\n",
		"origins": "$ORIGIN sub\nx IN A 10.0.0.1\n$ORIGIN other.example.com.\ny IN A 10.0.0.2\n" +
			"@ IN MX 10 mail\nmail IN CNAME x.sub.example.com.\n$ORIGIN @\nz IN A 10.0.0.3\n",
		"absolute and wildcard owners": "www.example.com. IN A 10.0.0.1\n*.wild IN A 10.0.0.2\n_s._tcp IN SRV 0 0 443 www\n" +
			"0/25.rev IN PTR host\nUPPER.Case IN A 10.0.0.3\n",
		"comments and spacing": "; a comment\n\n   \na\t60\tIN\tA\t10.0.0.1 ; trailing\nb IN A 10.0.0.2   \nc IN A 10.0.0.3;x\n",
		"no final newline":     "a IN A 10.0.0.1\nb IN AAAA ::ffff:10.0.0.2",
		"addresses":            "a IN A 0.0.0.0\nb IN A 255.255.255.255\nc IN AAAA ::\nd IN AAAA 2001:db8::1:2:3:4:5\n",
		"class then TTL":       "a IN 60 A 10.0.0.1\nb 70 IN A 10.0.0.2\nc 80 A 10.0.0.3\nd IN A 10.0.0.4\n",
		"other types":          "@ IN NS ns\nns IN A 10.0.0.53\nt IN TXT a b c\nc IN CAA 0 issue letsencrypt.org\n",
		"owners spelt like a type, a class or a TTL": "A IN A 10.0.0.1\nin 60 A 10.0.0.2\n300 IN A 10.0.0.3\nAAAA AAAA ::1\n",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			fast, slow, ok, slowErr := readBoth(t, "example.com.", text)
			if slowErr != nil {
				t.Fatalf("the zone parser fails: %v", slowErr)
			}
			if !ok {
				t.Fatal("declined")
			}
			if strings.Join(fast, "\n") != strings.Join(slow, "\n") {
				t.Errorf("fast:\n%s\nzone parser:\n%s", strings.Join(fast, "\n"), strings.Join(slow, "\n"))
			}
		})
	}
}

// The fast reader declines what it does not read itself, and every error:
// the zone parser then reads the file and words the problem.
func TestFastRecordsDeclines(t *testing.T) {
	for _, text := range []string{
		"@ IN SOA ns hm (\n 1 2 3 4 5 )\n",
		"t IN TXT \"a;b\"\n",
		"a\\.b IN A 10.0.0.1\n",
		"$INCLUDE other.zone\n",
		"$GENERATE 1-3 h$ A 10.0.0.$\n",
		"a IN A 10.0.0.1\r\n",
		"a 1h IN A 10.0.0.1\n",
		"a CH A 10.0.0.1\n",
		"  IN A 10.0.0.1\n", // no owner yet
		"a IN A 10.0.0\n",
		"a IN A 010.0.0.1\n",
		"a IN A 10.0.0.256\n",
		"a IN A 10.0.0.1 extra\n",
		"a IN AAAA 10.0.0.1\n",
		"a IN AAAA fe80::1%eth0\n",
		"a IN A\n",
		"a 60 60 IN A 10.0.0.1\n",
		"a IN IN A 10.0.0.1\n",
		"a..b IN A 10.0.0.1\n",
		"a IN MX mail\n",
		"a IN TYPE1 \\# 4 0a000001\n",
		"$ORIGIN\n",
		"$TTL 1d\n",
		"$FOO bar\n",
		"é IN A 10.0.0.1\n",
	} {
		if _, _, ok, _ := readBoth(t, "example.com.", text); ok {
			t.Errorf("%q: accepted", text)
		}
	}
}

// Load gives the same zone whichever reader read its file, including when
// the fast reader gives up half way through it.
func TestLoadFallsBackToTheZoneParser(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "z.zone")
	text := "$TTL 60\na IN A 10.0.0.1\nb IN A 10.0.0.2\nc IN TXT \"quoted\"\nd IN A 10.0.0.4\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	z := mustLoad(t, "example.com", file, nil)
	want := []string{"a.example.com.\t60\tIN\tA\t10.0.0.1", "b.example.com.\t60\tIN\tA\t10.0.0.2",
		"c.example.com.\t60\tIN\tTXT\t\"quoted\"", "d.example.com.\t60\tIN\tA\t10.0.0.4"}
	for i, name := range []string{"a", "b", "c", "d"} {
		qtype := dns.TypeA
		if name == "c" {
			qtype = dns.TypeTXT
		}
		got := z.Lookup(name+".example.com.", qtype)
		if len(got.Records) != 1 || got.Records[0].String() != want[i] {
			t.Errorf("%s: %v, want %s", name, got.Records, want[i])
		}
	}
	if len(z.sources) != 1 || !z.FilesUnchanged() {
		t.Errorf("sources %v after the fallback", z.sources)
	}
}

// FuzzFastRecords: whatever the fast reader accepts, the zone parser
// reads to the same records on the same lines.
func FuzzFastRecords(f *testing.F) {
	for _, seed := range []string{
		"$TTL 10\n@ IN SOA ns hm 1 2 3 4 5\nh0 IN A 10.0.0.1\n",
		"a IN A 10.0.0.1\n  60 IN AAAA fd00::1\nb in 30 a 10.0.0.2\nc IN A 10.0.0.3\n",
		"$ORIGIN sub\nx IN MX 10 mail\n$ORIGIN .\ny.z. IN A 10.0.0.1\n",
		"* IN A 10.0.0.1\n@ IN TXT a;b\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		defer hangGuard(text)()
		fast, slow, ok, slowErr := readBoth(t, "example.com.", text)
		if !ok {
			return
		}
		if slowErr != nil {
			t.Fatalf("accepted what the zone parser refuses (%v):\n%q", slowErr, text)
		}
		if strings.Join(fast, "\n") != strings.Join(slow, "\n") {
			t.Fatalf("%q\nfast:\n%s\nzone parser:\n%s", text, strings.Join(fast, "\n"), strings.Join(slow, "\n"))
		}
	})
}
