package datadir

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// A journal file is a sequence of frames, each
//
//	length  uint32  payload bytes
//	crc     uint32  CRC-32C of seq and payload
//	seq     uint64  1 + the seq of the frame before (or of the snapshot)
//	payload
//
// and its snapshot file is snapMagic, the seq of the last record it
// covers, then the same length, crc and payload. A frame that is short,
// fails its CRC or breaks the sequence ends the journal: it is the tail a
// crash tore, and everything from it on is cut when the journal is opened.
const (
	frameHeader = 16
	maxRecord   = 64 << 20
	snapMagic   = "privdns-snapshot-1\n"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Test hooks: writeChunk > 0 splits each frame into writes of that many
// bytes, and afterChunk runs between them, so a test can kill a process
// in the middle of a frame.
var (
	writeChunk int
	afterChunk func()
)

// Journal is an append-only log of records under one name, with the
// snapshot that compacts it. Its methods are safe for concurrent use.
type Journal struct {
	mu       sync.Mutex
	f        *os.File
	path     string
	snapPath string
	log      *slog.Logger
	snapSeq  uint64      // seq of the last record the snapshot covers
	seq      uint64      // seq of the last record appended
	size     int64       // bytes of whole frames
	snapFile os.FileInfo // the snapshot written or found last; nil for none
	broken   error       // set when a failed append could not be undone; each append tries again
}

// Record is one step of a replay: the snapshot (Snapshot set, first, at
// most once) or a record appended after it.
type Record struct {
	Seq      uint64
	Snapshot bool
	Data     []byte
}

// ErrBroken is returned by appends after one failed in a way that left the
// journal file in an unknown state (the failed write could not be undone),
// until an append manages to undo it.
var ErrBroken = errors.New("datadir: journal broken by a failed write")

// ErrMoved is the error of an append to a journal whose file or snapshot
// was removed or replaced under it (a folder in the file's place, say):
// what it appended would not be found there after a restart. The records
// the journal held are then only in its caller's memory: Compact with the
// whole state writes both files again, and appends go on.
var ErrMoved = errors.New("datadir: the journal's file or snapshot was removed or replaced")

// OpenJournal opens (creating it if missing) the journal under name, for
// instance a zone's registrations. A torn tail is cut off, fsynced and
// logged before it returns; a damaged snapshot is an error, since the
// records it compacted are nowhere else.
func (s *Store) OpenJournal(name string) (*Journal, error) {
	if s.readOnly {
		return nil, errReadOnly
	}
	base, err := fileName(name)
	if err != nil {
		return nil, err
	}
	j := &Journal{
		path:     filepath.Join(s.journalsDir(), base+".journal"),
		snapPath: filepath.Join(s.journalsDir(), base+".snapshot"),
		log:      s.log,
	}
	if _, snapSeq, err := readSnapshot(j.snapPath); err == nil {
		j.snapSeq = snapSeq
		j.snapFile, _ = os.Stat(j.snapPath)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("datadir: %s: %w", j.snapPath, err)
	}
	_, statErr := os.Stat(j.path)
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("datadir: %w", err)
	}
	j.f = f
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := syncDir(filepath.Dir(j.path)); err != nil {
			f.Close()
			return nil, fmt.Errorf("datadir: %w", err)
		}
	}
	if err := j.scan(s); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

// scan finds the whole frames, cuts what follows them and positions the
// file for appends.
func (j *Journal) scan(s *Store) error {
	info, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	j.seq = j.snapSeq
	var first, last uint64
	n := 0
	size, err := frames(j.f, func(seq uint64, _ []byte) error {
		if n > 0 && seq != last+1 {
			return errTorn
		}
		if n == 0 {
			first = seq
		}
		last = seq
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("datadir: %s: %w", j.path, err)
	}
	if n > 0 {
		if first > j.snapSeq+1 {
			return fmt.Errorf("datadir: %s: records %d to %d are missing (the snapshot ends at %d)", j.path, j.snapSeq+1, first-1, j.snapSeq)
		}
		j.seq = max(last, j.snapSeq)
	}
	if size < info.Size() {
		if err := j.f.Truncate(size); err != nil {
			return fmt.Errorf("datadir: cut torn tail of %s: %w", j.path, err)
		}
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("datadir: %w", err)
		}
		s.log.Warn("datadir: journal torn tail cut", "journal", j.path, "offset", size, "bytes", info.Size()-size, "records", n)
	}
	j.size = size
	_, err = j.f.Seek(size, io.SeekStart)
	return err
}

// errTorn stops a frame walk at a frame that does not belong.
var errTorn = errors.New("torn frame")

// frames calls fn for each whole frame from the start of f and returns the
// bytes they span. A short or corrupt frame, or fn returning errTorn, ends
// the walk there; other errors of fn or of reading are returned.
func frames(f *os.File, fn func(seq uint64, payload []byte) error) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	r := &countingReader{r: f}
	var head [frameHeader]byte
	var good int64
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return good, readEnd(err)
		}
		length := binary.BigEndian.Uint32(head[0:])
		sum := binary.BigEndian.Uint32(head[4:])
		seq := binary.BigEndian.Uint64(head[8:])
		if length > maxRecord {
			return good, nil
		}
		payload := make([]byte, length)
		if _, err := io.ReadFull(r, payload); err != nil {
			return good, readEnd(err)
		}
		if checksum(head[8:16], payload) != sum {
			return good, nil
		}
		switch err := fn(seq, payload); {
		case errors.Is(err, errTorn):
			return good, nil
		case err != nil:
			return good, err
		}
		good = r.n
	}
}

// readEnd turns the end of the file (whole or mid-frame) into a clean stop.
func readEnd(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func checksum(seq, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(seq, crcTable), crcTable, payload)
}

// Replay calls fn with the snapshot, if there is one, then with every
// record appended after it, in order. An error of fn stops the replay and
// is returned.
func (j *Journal) Replay(fn func(Record) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	snap, snapSeq, err := readSnapshot(j.snapPath)
	switch {
	case err == nil:
		if err := fn(Record{Seq: snapSeq, Snapshot: true, Data: snap}); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("datadir: %s: %w", j.snapPath, err)
	}
	_, err = frames(j.f, func(seq uint64, payload []byte) error {
		if seq <= snapSeq { // compacted already: a crash came between snapshot and truncation
			return nil
		}
		return fn(Record{Seq: seq, Data: payload})
	})
	if _, serr := j.f.Seek(j.size, io.SeekStart); err == nil {
		err = serr
	}
	return err
}

// Append writes one record and fsyncs it: once Append returns nil the
// record survives a crash, so a caller acknowledges what it holds only
// then. It returns the record's seq. It fails with ErrMoved, appending
// nothing, when the journal's files are no longer at their paths.
func (j *Journal) Append(data []byte) (uint64, error) {
	if len(data) > maxRecord {
		return 0, fmt.Errorf("datadir: a record of %d bytes is over the %d limit", len(data), maxRecord)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.repair(); err != nil {
		return 0, err
	}
	if err := j.inPlace(); err != nil {
		return 0, fmt.Errorf("datadir: append to %s: %w", j.path, err)
	}
	seq := j.seq + 1
	buf := make([]byte, frameHeader+len(data))
	binary.BigEndian.PutUint32(buf[0:], uint32(len(data)))
	binary.BigEndian.PutUint64(buf[8:], seq)
	copy(buf[frameHeader:], data)
	binary.BigEndian.PutUint32(buf[4:], checksum(buf[8:16], data))
	err := j.write(buf)
	if err == nil {
		err = j.f.Sync()
	}
	if err == nil {
		err = j.inPlace() // replaced while it was written: the record is not in dataDir
	}
	if err != nil {
		// Undo the partial frame so the next append does not follow
		// garbage; if that fails too, stop appending until it can.
		if terr := j.f.Truncate(j.size); terr != nil {
			j.broken = fmt.Errorf("%w: %v", ErrBroken, terr)
		} else if _, serr := j.f.Seek(j.size, io.SeekStart); serr != nil {
			j.broken = fmt.Errorf("%w: %v", ErrBroken, serr)
		}
		return 0, fmt.Errorf("datadir: append to %s: %w", j.path, err)
	}
	j.seq = seq
	j.size += int64(len(buf))
	return seq, nil
}

func (j *Journal) write(buf []byte) error {
	if writeChunk <= 0 {
		_, err := j.f.Write(buf)
		return err
	}
	for len(buf) > 0 {
		n := min(writeChunk, len(buf))
		if _, err := j.f.Write(buf[:n]); err != nil {
			return err
		}
		buf = buf[n:]
		if afterChunk != nil && len(buf) > 0 {
			afterChunk()
		}
	}
	return nil
}

// Compact replaces the snapshot with state, which must hold the effect of
// every record appended so far (the caller holds its own lock across its
// state and Compact), and empties the journal. A crash between the two
// steps leaves records the new snapshot covers; Replay skips them. When
// the journal's files were removed or replaced (ErrMoved) it writes them
// again, their folder too.
func (j *Journal) Compact(state []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.repair(); err != nil {
		return err
	}
	dir := filepath.Dir(j.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	buf := make([]byte, len(snapMagic)+frameHeader+len(state))
	copy(buf, snapMagic)
	h := buf[len(snapMagic):]
	binary.BigEndian.PutUint32(h[0:], uint32(len(state)))
	binary.BigEndian.PutUint64(h[8:], j.seq)
	copy(h[frameHeader:], state)
	binary.BigEndian.PutUint32(h[4:], checksum(h[8:16], state))
	if err := writeAtomic(j.snapPath, buf); err != nil {
		return fmt.Errorf("datadir: snapshot %s: %w", j.snapPath, err)
	}
	j.snapSeq = j.seq
	j.snapFile, _ = os.Stat(j.snapPath) // nil: the next append finds it moved, and asks for another
	switch err := sameFile(j.path, j.f); {
	case errors.Is(err, ErrMoved):
		return j.reopen()
	case err != nil:
		return fmt.Errorf("datadir: %w", err)
	}
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("datadir: empty %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	j.size = 0
	_, err := j.f.Seek(0, io.SeekStart)
	return err
}

// Seq is the seq of the last record appended (or compacted).
func (j *Journal) Seq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seq
}

// Close closes the journal file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.f.Close()
}

// readSnapshot returns the snapshot's state and the seq it ends at.
func readSnapshot(path string) ([]byte, uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	rest, ok := cutPrefix(data, snapMagic)
	if !ok || len(rest) < frameHeader {
		return nil, 0, errors.New("not a privdns snapshot")
	}
	length := binary.BigEndian.Uint32(rest[0:])
	sum := binary.BigEndian.Uint32(rest[4:])
	seq := binary.BigEndian.Uint64(rest[8:])
	state := rest[frameHeader:]
	if uint32(len(state)) != length || checksum(rest[8:16], state) != sum {
		return nil, 0, errors.New("snapshot damaged (length or checksum)")
	}
	return state, seq, nil
}

func cutPrefix(b []byte, prefix string) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return nil, false
	}
	return b[len(prefix):], true
}
