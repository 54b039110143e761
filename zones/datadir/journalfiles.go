package datadir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// A journal's files must stay where it opened them: an append fsynced to a
// file that was removed or renamed away would be acknowledged and then not
// found at the next start. These check and put right where they are.

// repair undoes a failed write that could not be undone when it failed
// (the file system refused the truncation too), so that appends go on
// once the file system takes writes again. The caller holds mu.
func (j *Journal) repair() error {
	if j.broken == nil {
		return nil
	}
	if err := j.f.Truncate(j.size); err != nil {
		return j.broken
	}
	if _, err := j.f.Seek(j.size, io.SeekStart); err != nil {
		return j.broken
	}
	j.log.Info("datadir: journal usable again: the failed write is undone", "journal", j.path)
	j.broken = nil
	return nil
}

// inPlace returns ErrMoved when the journal's path no longer names the
// open file, or its snapshot's path the snapshot it wrote or found.
func (j *Journal) inPlace() error {
	if err := sameFile(j.path, j.f); err != nil {
		return err
	}
	if j.snapFile == nil {
		return nil
	}
	at, err := os.Stat(j.snapPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ErrMoved
	case err != nil:
		return err
	case !os.SameFile(at, j.snapFile):
		return ErrMoved
	}
	return nil
}

// sameFile returns ErrMoved unless path names f.
func sameFile(path string, f *os.File) error {
	at, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrMoved
	}
	if err != nil {
		return err
	}
	mine, err := f.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(at, mine) {
		return ErrMoved
	}
	return nil
}

// reopen puts an empty journal file at the path, in place of the one that
// was removed or replaced, once the snapshot holds everything. The caller
// holds mu.
func (j *Journal) reopen() error {
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	if err := f.Sync(); err == nil {
		err = syncDir(filepath.Dir(j.path))
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("datadir: %w", err)
	}
	j.f.Close()
	j.f, j.size = f, 0
	j.log.Warn("datadir: the journal's files were removed or replaced; written again from the caller's state", "journal", j.path, "snapshot", j.snapPath)
	return nil
}
