package datadir

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Store is an opened dataDir.
type Store struct {
	dir      string
	log      *slog.Logger
	readOnly bool // OpenReadOnly: writes fail
}

// errReadOnly is the error of a write through a store opened read-only.
var errReadOnly = errors.New("datadir: opened read-only")

// tmpMark is in the name of every temporary file, so that Open can sweep
// those a crash left behind.
const tmpMark = ".tmp-"

// Open creates dir (and its parents) if missing, removes temporary files
// left by an interrupted write, and returns the store. log may be nil.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if dir == "" {
		return nil, errors.New("datadir: no folder given")
	}
	s := &Store{dir: dir, log: log}
	for _, sub := range []string{dir, s.zonesDir(), s.journalsDir()} {
		if err := os.MkdirAll(sub, 0o700); err != nil {
			return nil, fmt.Errorf("datadir: %w", err)
		}
	}
	for _, sub := range []string{s.zonesDir(), s.journalsDir()} {
		s.sweep(sub)
	}
	return s, nil
}

// OpenReadOnly returns the store of dir for reading copies only, as a
// command beside a running server does (privdns explain): it creates
// nothing and sweeps nothing, so a write the server has in progress is
// left alone. Writing through it fails.
func OpenReadOnly(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("datadir: no folder given")
	}
	return &Store{dir: dir, log: slog.New(slog.DiscardHandler), readOnly: true}, nil
}

// Dir is the folder the store owns.
func (s *Store) Dir() string { return s.dir }

func (s *Store) zonesDir() string    { return filepath.Join(s.dir, "zones") }
func (s *Store) journalsDir() string { return filepath.Join(s.dir, "journals") }

// sweep removes the temporary files of writes a crash interrupted.
func (s *Store) sweep(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.log.Warn("datadir: cannot list folder", "dir", dir, "err", err)
		return
	}
	for _, e := range entries {
		if !strings.Contains(e.Name(), tmpMark) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.Remove(path); err != nil {
			s.log.Warn("datadir: cannot remove an interrupted write", "file", path, "err", err)
			continue
		}
		s.log.Info("datadir: removed an interrupted write", "file", path)
	}
}

// fileName turns a key (a zone name, say) into a file name: letters,
// digits, '-', '_' and inner dots stay; anything else, and a trailing dot,
// is escaped as %XX, so distinct keys never share a file.
func fileName(key string) (string, error) {
	if key == "" {
		return "", errors.New("datadir: empty key")
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		plain := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if c == '.' && i > 0 && i < len(key)-1 && key[i-1] != '.' {
			plain = true
		}
		if plain {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String(), nil
}

// writeAtomic replaces path with data: a temporary file in the same
// folder, fsynced, renamed over path, and the folder fsynced so the
// rename itself survives a crash.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+tmpMark+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir fsyncs a folder, which makes renames and new files in it
// durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // folders cannot be opened for fsync there; NTFS orders the rename itself
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
