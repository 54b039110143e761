package zones

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzLoad feeds arbitrary inline text to Load (one record per line) and
// checks every zone it accepts (checkZone): neither may panic. Seeds are
// below and in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"contoso 10 IN A 10.1.0.5",
		"@ IN MX 10 mail\nmail IN A 10.0.0.1",
		"www IN CNAME web.example.com.\nwww IN A 10.0.0.1",
		"*.wild IN TXT \"a;(b\"\nx.y.z IN AAAA fd00::1",
		"@ IN SOA ns hm ( 1 2 3 4 5 )",
		"a\\.b IN A 10.0.0.1\n*.a\\.b IN A 10.0.0.2",
		"$GENERATE 1-3 h$ A 10.0.0.$",
		"bad IN A 10.0.0",
		"sub IN NS ns.sub\nout.example.org. IN A 10.0.0.1",
		"a 60 IN A 10.0.0.1\na 120 IN A 10.0.0.2\na 4294967295 IN A 10.0.0.3",
		"@ IN MX 10 alias\nalias IN CNAME mail\n_s._tcp IN SRV 0 0 1 alias",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		defer hangGuard(text)()
		z, err := Load("example.com", "", strings.Split(text, "\n"))
		if err != nil {
			checkErrors(t, err, "")
			return
		}
		checkZone(t, z)
	})
}

// FuzzLoadFile writes arbitrary bytes as a master file, next to a file it
// may $INCLUDE, and loads it: no panic, every error located in a file and
// on a line, and every accepted zone sound (checkZone). Seeds are below
// and in testdata/fuzz/FuzzLoadFile.
func FuzzLoadFile(f *testing.F) {
	for _, name := range []string{"example.zone", "errors.zone", "nottl.zone", "origin.zone", "syntax.zone", "badinclude.zone"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("$TTL 60\n@ IN SOA ns hm (\n 1 2 3 4 5 )\n$INCLUDE inc.zone sub\nx IN A 10.0.0.1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if leavesFolder(data) {
			t.Skip("$INCLUDE outside the folder")
		}
		dir := t.TempDir()
		file := filepath.Join(dir, "z.zone")
		inc := filepath.Join(dir, "inc.zone")
		if os.WriteFile(file, data, 0o600) != nil || os.WriteFile(inc, []byte("i IN A 10.0.0.2\ni 30 IN A 10.0.0.3\n"), 0o600) != nil {
			t.Fatal("cannot write the zone files")
		}
		defer hangGuard(data)()
		z, err := Load("example.com", file, nil)
		if err != nil {
			checkErrors(t, err, file)
			return
		}
		checkZone(t, z)
		for _, w := range z.Warnings() {
			if w.File == "" || w.Line < 1 {
				t.Errorf("warning %q names no file line", w)
			}
		}
	})
}

// hangGuard crashes the test binary, naming the input, when the input's
// checks take over 10 seconds: Go's fuzzer has no per-input timeout, so a
// hang would otherwise stall it silently instead of leaving a crasher.
// The returned func disarms it.
func hangGuard[T string | []byte](input T) func() bool {
	return time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("input hangs: %q", input)) }).Stop
}

// leavesFolder reports whether a fuzzed file may $INCLUDE a file outside
// its folder: a device or a FIFO there (/dev/zero, /dev/stdin) would hang
// the fuzzer. Relative paths without ".." stay in the folder (the zone
// parser keeps backslashes in file names as written).
func leavesFolder(data []byte) bool {
	if !bytes.Contains(bytes.ToUpper(data), []byte("$INCLUDE")) {
		return false
	}
	if bytes.Contains(data, []byte("..")) {
		return true
	}
	for i, c := range data {
		if c == '/' && (i == 0 || !isPathByte(data[i-1])) {
			return true // an absolute path
		}
	}
	return false
}

func isPathByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == '\\'
}

// checkErrors asserts that a failed Load says where: the zone file's line
// for problems in a file (file != ""), else the inline record.
func checkErrors(t *testing.T, err error, file string) {
	t.Helper()
	errs, ok := err.(Errors)
	if !ok || len(errs) == 0 {
		t.Fatalf("Load error %v (%T), want a non-empty Errors", err, err)
	}
	for _, e := range errs {
		switch {
		case file == "" && e.Record < 1:
			t.Errorf("inline error %q names no record", e)
		case file != "" && (e.File == "" || e.Line < 1):
			t.Errorf("file error %q names no file line", e)
		}
	}
}

// checkZone asserts what every accepted zone promises: each record answers
// as its own name and type, each RRset has one TTL (RFC 2181 §5.2) and
// no duplicates, and every answer packs into a reply a client can read.
func checkZone(t *testing.T, z *Zone) {
	t.Helper()
	if bad := mixedTTLs(z); bad != "" {
		t.Fatalf("RRset with mixed TTLs: %s", bad)
	}
	for n := range z.nodes {
		for _, set := range z.nodeSets(uint32(n)) {
			rrs := z.records(uint32(n), set)
			if len(rrs) > 256 {
				continue // the pairwise check would be the slow part
			}
			for i, rr := range rrs {
				for _, other := range rrs[:i] {
					if dns.IsDuplicate(rr, other) {
						t.Fatalf("duplicate records in one RRset: %s and %s", other, rr)
					}
				}
			}
		}
		all := z.all(uint32(n))
		if len(all) == 0 {
			continue
		}
		name := all[0].Header().Name
		for _, q := range append(typesOf(z, uint32(n)), dns.TypeANY, dns.TypeA) {
			r := z.Lookup(name, q)
			if q != dns.TypeA && r.Kind != Answer {
				t.Fatalf("Lookup(%q, %d) = %v for an existing record", name, q, r.Kind)
			}
			checkWire(t, name, q, r)
		}
		if probe := "x." + name; len(probe) <= 253 { // a longer name may not be a name
			checkWire(t, probe, dns.TypeA, z.Lookup(probe, dns.TypeA))
		}
		z.Lookup(strings.ToUpper(name), dns.TypeCNAME)
	}
}

// typesOf lists the types of the RRsets at node n of z.
func typesOf(z *Zone, n uint32) []uint16 {
	sets := z.nodeSets(n)
	out := make([]uint16, len(sets))
	for i, s := range sets {
		out[i] = s.typ
	}
	return out
}

// checkWire packs a lookup's result as a reply and reads it back.
func checkWire(t *testing.T, qname string, qtype uint16, r Result) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(qname), qtype)
	m.Answer = r.Records
	if r.SOA != nil {
		m.Ns = []dns.RR{r.SOA}
	}
	if m.Len() > dns.MaxMsgSize {
		return // no transport carries it: the server must truncate
	}
	wire, err := m.Pack()
	if err != nil {
		t.Fatalf("reply to %s/%d does not pack: %v", qname, qtype, err)
	}
	if err := new(dns.Msg).Unpack(wire); err != nil {
		t.Fatalf("reply to %s/%d does not unpack: %v", qname, qtype, err)
	}
}
