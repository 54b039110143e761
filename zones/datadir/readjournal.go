package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// readAttempts bounds ReadJournal's retries while the server compacts
// under it: each retry follows a compaction, which takes a thousand
// appends.
const readAttempts = 5

// ErrJournalMoving is returned by ReadJournal when the journal changed
// under every one of its reads.
var ErrJournalMoving = errors.New("datadir: the journal was compacted during every read")

// ReadJournal calls fn with the snapshot of the journal under name, if
// there is one, then with every whole record after it, as Replay does,
// but without opening it for writing: a torn tail is left where it is
// (the server cuts it) and a journal never written replays nothing. It is
// for a command beside a running server (privdns explain), through a
// store opened read-only or not. A compaction the server makes during the
// read is noticed (the snapshot changed) and the read starts again, so fn
// sees one consistent state, and fn is called only once the read is
// whole.
func (s *Store) ReadJournal(name string, fn func(Record) error) error {
	base, err := fileName(name)
	if err != nil {
		return err
	}
	path := filepath.Join(s.journalsDir(), base+".journal")
	snapPath := filepath.Join(s.journalsDir(), base+".snapshot")
	for range readAttempts {
		recs, stable, err := readJournalOnce(path, snapPath)
		if err != nil {
			return err
		}
		if !stable {
			continue
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %s", ErrJournalMoving, path)
}

// readJournalOnce reads the snapshot, the journal after it, and the
// snapshot's seq again: stable is false when a compaction came between.
func readJournalOnce(path, snapPath string) (recs []Record, stable bool, err error) {
	snap, snapSeq, err := readSnapshot(snapPath)
	haveSnap := err == nil
	switch {
	case haveSnap:
		recs = append(recs, Record{Seq: snapSeq, Snapshot: true, Data: snap})
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("datadir: %s: %w", snapPath, err)
	}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f = nil
	case err != nil:
		return nil, false, fmt.Errorf("datadir: %w", err)
	default:
		defer f.Close()
	}
	gap := uint64(0) // the first record after the snapshot, when those before it are missing
	if f != nil {
		var last uint64
		n := 0
		_, err = frames(f, func(seq uint64, payload []byte) error {
			if n > 0 && seq != last+1 {
				return errTorn // where the server's scan stops too
			}
			first := n == 0
			last = seq
			n++
			switch {
			case seq <= snapSeq: // compacted already
			case first && seq > snapSeq+1:
				gap = seq
				return errTorn
			default:
				recs = append(recs, Record{Seq: seq, Data: payload})
			}
			return nil
		})
		if err != nil {
			return nil, false, fmt.Errorf("datadir: %s: %w", path, err)
		}
	}
	_, again, err := readSnapshot(snapPath)
	haveAgain := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil // replaced as it was read: try again
	}
	if haveAgain != haveSnap || again != snapSeq {
		return nil, false, nil
	}
	if gap != 0 {
		return nil, false, fmt.Errorf("datadir: %s: records %d to %d are missing (the snapshot ends at %d)", path, snapSeq+1, gap-1, snapSeq)
	}
	return recs, true, nil
}
