package datadir

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/privdns/privdns/zones/datadir/crashtest"
)

// readAll is ReadJournal's replay: the snapshot ("" when none) and the records.
func readAll(t *testing.T, s *Store) (string, []string) {
	t.Helper()
	var snap string
	var recs []string
	if err := s.ReadJournal("corp.example.", func(r Record) error {
		if r.Snapshot {
			snap = string(r.Data)
		} else {
			recs = append(recs, string(r.Data))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return snap, recs
}

// A read-only reader sees what the journal's own Replay sees, and writes
// nothing: a torn tail stays for the server to cut, and the server's
// journal goes on appending after it.
func TestReadJournalReadsWithoutWriting(t *testing.T) {
	dir := t.TempDir()
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	if snap, recs := readAll(t, ro); snap != "" || len(recs) != 0 {
		t.Fatalf("a journal never written reads %q, %q", snap, recs)
	}
	if _, err := os.Stat(filepath.Join(dir, "journals")); err == nil {
		t.Fatal("reading created the journals folder")
	}
	j, _ := openJournal(t, dir)
	for _, r := range []string{"r0", "r1"} {
		j.Append([]byte(r))
	}
	j.Compact([]byte("state after r1"))
	for _, r := range []string{"r2", "r3"} {
		j.Append([]byte(r))
	}
	path := filepath.Join(dir, "journals", "corp.example%2E.journal")
	appendBytes(t, path, []byte{0, 0, 0, 9, 1, 2, 3}) // a write in progress, or torn
	before := crashtest.Files(t, dir)
	if snap, recs := readAll(t, ro); snap != "state after r1" || strings.Join(recs, " ") != "r2 r3" {
		t.Errorf("read = %q, %q; want the snapshot then r2 r3", snap, recs)
	}
	if after := crashtest.Files(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("reading changed the dataDir:\nbefore %q\nafter  %q", before, after)
	}
	if _, err := ro.OpenJournal("corp.example."); err == nil {
		t.Error("a read-only store opened a journal for writing")
	}
}

func TestReadJournalRefusesMissingRecords(t *testing.T) {
	dir := t.TempDir()
	j, _ := openJournal(t, dir)
	j.Append([]byte("r0"))
	j.Compact([]byte("state after r0"))
	j.Append([]byte("r1"))
	j.Close()
	os.Remove(filepath.Join(dir, "journals", "corp.example%2E.snapshot"))
	ro, _ := OpenReadOnly(dir)
	err := ro.ReadJournal("corp.example.", func(Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("ReadJournal = %v, want records missing: the snapshot that held them is gone", err)
	}
}

// While the server appends and compacts, each read is one state the
// journal held: a snapshot and the records right after it, never a record
// lost between a snapshot read before a compaction and a journal emptied
// by it; and reads never go back in time.
func TestReadJournalSeesOneStateWhileTheServerCompacts(t *testing.T) {
	dir := t.TempDir()
	j, _ := openJournal(t, dir)
	ro, _ := OpenReadOnly(dir)
	const appends = 400
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= appends; i++ {
			if _, err := j.Append([]byte(strconv.Itoa(i))); err != nil {
				t.Error(err)
				return
			}
			if i%5 == 0 {
				if err := j.Compact([]byte(strconv.Itoa(i))); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	last, reads := 0, 0
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		n := 0
		err := ro.ReadJournal("corp.example.", func(r Record) error {
			v, err := strconv.Atoi(string(r.Data))
			if err != nil {
				return err
			}
			if !r.Snapshot && v != n+1 {
				return fmt.Errorf("record %d after state %d", v, n)
			}
			n = v
			return nil
		})
		if errors.Is(err, ErrJournalMoving) {
			continue
		}
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if n < last {
			t.Fatalf("read %d: state %d after %d", reads, n, last)
		}
		last = n
		reads++
	}
	if last != appends {
		t.Errorf("last read state %d, want %d", last, appends)
	}
	t.Logf("%d reads", reads)
	if b, _ := os.ReadFile(filepath.Join(dir, "journals", "corp.example%2E.snapshot")); !bytes.Contains(b, []byte(strconv.Itoa(appends))) {
		t.Errorf("snapshot %q", b)
	}
}
