package datadir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// mustRR parses a record of the test's own; t may be nil in a child.
func mustRR(t testing.TB, s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(fmt.Sprintf("bad test record %q: %v", s, err))
	}
	return rr
}

// logBuffer is a logger whose lines a test can read.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

func testCopy(t testing.TB, serial uint32) ZoneCopy {
	return ZoneCopy{
		Zone:   "corp.example.",
		Serial: serial,
		Records: []dns.RR{
			mustRR(t, "corp.example. 3600 IN SOA ns1.corp.example. hm.corp.example. 7 60 30 600 10"),
			mustRR(t, "corp.example. 60 IN NS ns1.corp.example."),
			mustRR(t, `txt.corp.example. 60 IN TXT "a b;c" "d\"e"`),
			mustRR(t, "x.corp.example. 60 IN TYPE65280 \\# 3 010203"),
			mustRR(t, "www.corp.example. 60 IN A 10.0.0.1"),
		},
		Checked: time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC),
	}
}

func TestZoneCopyRoundTrips(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a", "b"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadZone("corp.example."); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadZone before any save: %v, want ErrNotExist", err)
	}
	want := testCopy(t, 42)
	if err := s.SaveZone("corp.example.", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadZone("corp.example.")
	if err != nil {
		t.Fatal(err)
	}
	if got.Zone != want.Zone || got.Serial != 42 || !got.Checked.Equal(want.Checked) || len(got.Records) != len(want.Records) {
		t.Fatalf("LoadZone = %+v, want %+v", got, want)
	}
	for i := range want.Records {
		if got.Records[i].String() != want.Records[i].String() {
			t.Errorf("record %d = %s, want %s", i, got.Records[i], want.Records[i])
		}
	}

	later := want.Checked.Add(time.Hour)
	if err := s.SaveChecked("corp.example.", later); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LoadZone("corp.example."); !got.Checked.Equal(later) || got.Serial != 42 {
		t.Errorf("after SaveChecked: checked %v serial %d, want %v and 42", got.Checked, got.Serial, later)
	}
	// A new copy replaces the check time as well.
	if err := s.SaveZone("corp.example.", testCopy(t, 43)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LoadZone("corp.example."); !got.Checked.Equal(want.Checked) || got.Serial != 43 {
		t.Errorf("after SaveZone: checked %v serial %d, want %v and 43", got.Checked, got.Serial, want.Checked)
	}
}

func TestADamagedZoneCopyIsAnError(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveZone("corp.example.", testCopy(t, 1)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir(), "zones", "corp.example%2E.zone")
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, text, want string
	}{
		{"cut short", string(full[:len(full)*2/3]), "cut short"},
		{"a record missing", strings.Replace(string(full), "www.corp.example.\t60\tIN\tA\t10.0.0.1\n", "", 1), "4 records where the end line says 5"},
		{"not a copy", "corp.example. 60 IN A 10.0.0.1\n", "not a privdns zone copy"},
	} {
		if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadZone("corp.example."); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: LoadZone error = %v, want one naming %s and saying %q", c.name, err, path, c.want)
		}
	}
}

func TestOpenSweepsInterruptedWrites(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "zones", "corp.example%2E.zone"+tmpMark+"123")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	log, lines := logBuffer()
	if _, err := Open(dir, log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the interrupted write is still there: %v", err)
	}
	if !strings.Contains(lines.String(), "removed an interrupted write") {
		t.Errorf("no log line for the sweep: %q", lines)
	}
}

func TestFileNamesKeepKeysApart(t *testing.T) {
	seen := map[string]string{}
	for _, key := range []string{"corp.example.", "corp.example", "corp..example", "Corp.example.", "a/b", "..", "x#2", "_msdcs.corp"} {
		name, err := fileName(key)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.HasPrefix(name, ".") {
			t.Errorf("fileName(%q) = %q, not a plain file name", key, name)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("fileName(%q) = fileName(%q) = %q", key, other, name)
		}
		seen[name] = key
	}
	if _, err := fileName(""); err == nil {
		t.Error("an empty key got a file name")
	}
}

func TestAReadOnlyStoreReadsCopiesAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	soa, _ := dns.NewRR("z. 60 IN SOA ns. h. 7 60 60 600 60")
	if err := s.SaveZone("z.", ZoneCopy{Zone: "z.", Serial: 7, Records: []dns.RR{soa}, Checked: time.Unix(100, 0)}); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, "zones", "z..zone"+tmpMark+"123")
	if err := os.WriteFile(leftover, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ro.LoadZone("z.")
	if err != nil || c.Serial != 7 {
		t.Fatalf("LoadZone = %+v, %v; want serial 7", c, err)
	}
	if _, err := os.Stat(leftover); err != nil {
		t.Errorf("a read-only open swept a temporary file a running server may be writing: %v", err)
	}
	if err := ro.SaveZone("z.", c); !errors.Is(err, errReadOnly) {
		t.Errorf("SaveZone on a read-only store = %v, want errReadOnly", err)
	}
	if _, err := ro.OpenJournal("z."); !errors.Is(err, errReadOnly) {
		t.Errorf("OpenJournal on a read-only store = %v, want errReadOnly", err)
	}
}
