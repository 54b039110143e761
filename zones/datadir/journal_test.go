package datadir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// replayAll returns the snapshot ("" when none) and the records.
func replayAll(t *testing.T, j *Journal) (string, []string) {
	t.Helper()
	var snap string
	var recs []string
	err := j.Replay(func(r Record) error {
		if r.Snapshot {
			snap = string(r.Data)
		} else {
			recs = append(recs, string(r.Data))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap, recs
}

func openJournal(t *testing.T, dir string) (*Journal, string) {
	t.Helper()
	log, lines := logBuffer()
	s, err := Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.OpenJournal("corp.example.")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, lines.String()
}

func TestJournalAppendsReplaysAndCompacts(t *testing.T) {
	dir := t.TempDir()
	j, _ := openJournal(t, dir)
	for i := range 3 {
		if seq, err := j.Append(fmt.Appendf(nil, "r%d", i)); err != nil || seq != uint64(i+1) {
			t.Fatalf("Append = %d, %v; want seq %d", seq, err, i+1)
		}
	}
	if snap, recs := replayAll(t, j); snap != "" || strings.Join(recs, " ") != "r0 r1 r2" {
		t.Fatalf("replay = %q, %q; want no snapshot and r0 r1 r2", snap, recs)
	}
	if err := j.Compact([]byte("state after r2")); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append([]byte("r3")); err != nil {
		t.Fatal(err)
	}
	j.Close()

	j2, log := openJournal(t, dir)
	if snap, recs := replayAll(t, j2); snap != "state after r2" || strings.Join(recs, " ") != "r3" {
		t.Errorf("replay after reopen = %q, %q; want the snapshot then r3", snap, recs)
	}
	if j2.Seq() != 4 {
		t.Errorf("Seq = %d, want 4", j2.Seq())
	}
	if strings.Contains(log, "torn") {
		t.Errorf("a clean journal logged a torn tail: %q", log)
	}
	// Appends go on after the records already there.
	if seq, err := j2.Append([]byte("r4")); err != nil || seq != 5 {
		t.Fatalf("Append after reopen = %d, %v; want seq 5", seq, err)
	}
	if _, recs := replayAll(t, j2); strings.Join(recs, " ") != "r3 r4" {
		t.Errorf("records = %q, want r3 r4", recs)
	}
}

func TestJournalCutsATornTail(t *testing.T) {
	for _, c := range []struct {
		name string
		tear func(t *testing.T, path string)
	}{
		{"half a header", func(t *testing.T, path string) { appendBytes(t, path, []byte{0, 0, 0}) }},
		{"half a payload", func(t *testing.T, path string) {
			appendBytes(t, path, []byte{0, 0, 0, 9, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 3, 'r'})
		}},
		{"zeros", func(t *testing.T, path string) { appendBytes(t, path, make([]byte, 4096)) }},
		{"a bad checksum", func(t *testing.T, path string) {
			data, _ := os.ReadFile(path)
			data[len(data)-1] ^= 0xff // the last record's payload
			os.WriteFile(path, data, 0o600)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			j, _ := openJournal(t, dir)
			for _, r := range []string{"r0", "r1", "r2"} {
				if _, err := j.Append([]byte(r)); err != nil {
					t.Fatal(err)
				}
			}
			j.Close()
			path := filepath.Join(dir, "journals", "corp.example%2E.journal")
			c.tear(t, path)

			j2, log := openJournal(t, dir)
			_, recs := replayAll(t, j2)
			want := "r0 r1 r2"
			if c.name == "a bad checksum" {
				want = "r0 r1"
			}
			if strings.Join(recs, " ") != want {
				t.Errorf("records = %q, want %s", recs, want)
			}
			if !strings.Contains(log, "journal torn tail cut") || !strings.Contains(log, path) {
				t.Errorf("log = %q, want the torn tail cut, naming the journal", log)
			}
			if _, err := j2.Append([]byte("r9")); err != nil {
				t.Fatal(err)
			}
			if _, recs := replayAll(t, j2); strings.Join(recs, " ") != want+" r9" {
				t.Errorf("records after an append = %q, want %s r9", recs, want)
			}
		})
	}
}

func TestJournalSkipsRecordsItsSnapshotCovers(t *testing.T) {
	// A crash between writing the snapshot and emptying the journal.
	dir := t.TempDir()
	j, _ := openJournal(t, dir)
	for _, r := range []string{"r0", "r1"} {
		j.Append([]byte(r))
	}
	path := filepath.Join(dir, "journals", "corp.example%2E.journal")
	before, _ := os.ReadFile(path)
	if err := j.Compact([]byte("s")); err != nil {
		t.Fatal(err)
	}
	j.Close()
	os.WriteFile(path, before, 0o600) // as if the truncation never happened

	j2, _ := openJournal(t, dir)
	if snap, recs := replayAll(t, j2); snap != "s" || len(recs) != 0 {
		t.Errorf("replay = %q, %q; want the snapshot alone", snap, recs)
	}
	if seq, _ := j2.Append([]byte("r2")); seq != 3 {
		t.Errorf("next seq = %d, want 3", seq)
	}
	if snap, recs := replayAll(t, j2); snap != "s" || strings.Join(recs, " ") != "r2" {
		t.Errorf("replay = %q, %q; want the snapshot and r2", snap, recs)
	}
}

func TestJournalRefusesADamagedSnapshot(t *testing.T) {
	dir := t.TempDir()
	j, _ := openJournal(t, dir)
	j.Append([]byte("r0"))
	j.Compact([]byte("state"))
	j.Close()
	snap := filepath.Join(dir, "journals", "corp.example%2E.snapshot")
	data, _ := os.ReadFile(snap)
	data[len(data)-1] ^= 1
	os.WriteFile(snap, data, 0o600)
	s, _ := Open(dir, nil)
	if _, err := s.OpenJournal("corp.example."); err == nil || !strings.Contains(err.Error(), "snapshot damaged") {
		t.Errorf("OpenJournal = %v, want a damaged snapshot error", err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}
