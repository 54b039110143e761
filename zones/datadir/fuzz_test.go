package datadir

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseCopy feeds arbitrary bytes to the zone copy reader: it may
// refuse them, never panic.
func FuzzParseCopy(f *testing.F) {
	f.Add([]byte(copyMagic + "\n;; zone corp.example.\n;; serial 1\n;; checked 2025-01-01T00:00:00Z\ncorp.example. 60 IN A 10.0.0.1\n;; end 1\n"))
	f.Add([]byte(copyMagic + "\n;; zone x.\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseCopy(data)
	})
}

// FuzzOpenJournal opens a journal holding arbitrary bytes: it cuts what
// is not whole frames and replays the rest, never panics, and appends
// after it.
func FuzzOpenJournal(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		s, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "journals", "j.journal"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := s.OpenJournal("j")
		if err != nil {
			return // a gap in the sequence is refused, not guessed at
		}
		defer j.Close()
		n := 0
		if err := j.Replay(func(Record) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Append([]byte("after")); err != nil {
			t.Fatal(err)
		}
		m := 0
		j.Replay(func(Record) error { m++; return nil })
		if m != n+1 {
			t.Fatalf("replayed %d records after an append to %d", m, n)
		}
	})
}
