package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A journal whose file or snapshot is removed or replaced under it (a
// folder in the file's place, the folder removed) appends nothing: what
// it appended would not be there after a restart. Compact with the whole
// state writes both again, as soon as the paths allow, and appends go on.
func TestJournalFilesReplacedUnderItFailAppendsUntilCompacted(t *testing.T) {
	for _, c := range []struct {
		name        string
		damage, fix func(t *testing.T, path, snap string)
	}{
		{"journal removed", func(t *testing.T, path, _ string) { os.Remove(path) }, nil},
		{"journal renamed", func(t *testing.T, path, _ string) { os.Rename(path, path+".old") }, nil},
		{"a folder in the journal's place", func(t *testing.T, path, _ string) { os.Remove(path); os.Mkdir(path, 0o700) },
			func(t *testing.T, path, _ string) { os.Remove(path) }},
		{"snapshot removed", func(t *testing.T, _, snap string) { os.Remove(snap) }, nil},
		{"journals folder removed", func(t *testing.T, path, _ string) { os.RemoveAll(filepath.Dir(path)) }, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			j, _ := openJournal(t, dir)
			j.Append([]byte("r0"))
			j.Compact([]byte("state after r0"))
			j.Append([]byte("r1"))
			path := filepath.Join(dir, "journals", "corp.example%2E.journal")
			snap := filepath.Join(dir, "journals", "corp.example%2E.snapshot")
			c.damage(t, path, snap)
			if _, err := j.Append([]byte("r2")); !errors.Is(err, ErrMoved) {
				t.Fatalf("Append = %v, want ErrMoved", err)
			}
			if c.fix != nil {
				if err := j.Compact([]byte("state after r1")); err == nil {
					t.Fatal("Compact wrote the journal over a folder")
				}
				if _, err := j.Append([]byte("r2")); err == nil {
					t.Fatal("Append after a failed Compact")
				}
				c.fix(t, path, snap)
			}
			if err := j.Compact([]byte("state after r1")); err != nil {
				t.Fatal(err)
			}
			if _, err := j.Append([]byte("r2")); err != nil {
				t.Fatal(err)
			}
			j.Close()
			j2, _ := openJournal(t, dir)
			if snap, recs := replayAll(t, j2); snap != "state after r1" || strings.Join(recs, " ") != "r2" {
				t.Errorf("after a restart: %q, %q; want the new snapshot and r2", snap, recs)
			}
			if j2.Seq() != 3 {
				t.Errorf("Seq %d, want 3", j2.Seq())
			}
		})
	}
}

// An append that fails and cannot be undone (the file system refused the
// truncation too) breaks the journal until a later append can undo it:
// then appends go on, and the torn frame is not in the journal.
func TestJournalBrokenByAFailedWriteIsRepairedOnceWritesWork(t *testing.T) {
	dir := t.TempDir()
	j, _ := openJournal(t, dir)
	j.Append([]byte("r0"))
	path := filepath.Join(dir, "journals", "corp.example%2E.journal")
	rw := j.f
	writeChunk = 5
	afterChunk = func() {
		// The file system refuses writes and truncations from here on.
		ro, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		j.f = ro
	}
	t.Cleanup(func() { writeChunk, afterChunk = 0, nil })
	if _, err := j.Append([]byte("r1 torn")); err == nil {
		t.Fatal("an append through a read-only file succeeded")
	}
	afterChunk = nil
	if _, err := j.Append([]byte("r2")); !errors.Is(err, ErrBroken) {
		t.Fatalf("Append = %v, want ErrBroken while the write cannot be undone", err)
	}
	if info, _ := os.Stat(path); info.Size() <= j.size {
		t.Fatalf("no partial frame left (%d bytes): the test did not break the journal", info.Size())
	}
	j.f.Close()
	j.f = rw // writes work again
	if _, err := j.Append([]byte("r3")); err != nil {
		t.Fatalf("Append once writes work: %v", err)
	}
	j.Close()
	j2, log := openJournal(t, dir)
	if _, recs := replayAll(t, j2); strings.Join(recs, " ") != "r0 r3" {
		t.Errorf("records %q, want r0 r3", recs)
	}
	if strings.Contains(log, "torn") {
		t.Errorf("the repaired journal had a torn tail: %s", log)
	}
}
