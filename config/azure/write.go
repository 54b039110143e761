package azure

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// ErrNotEmpty is returned by Write for an output folder that holds files
// when WriteOptions.Force is not set.
var ErrNotEmpty = errors.New("the output folder is not empty")

// WriteOptions control Write.
type WriteOptions struct {
	// Force replaces an output folder that is not empty, as a whole: what
	// it held is gone afterwards.
	Force bool
	// Check, when set, is called with the temporary folder holding every
	// file before it takes the output folder's place; an error leaves the
	// output folder as it was.
	Check func(dir string) error
}

// Write puts files (slash-separated paths, as Result.Files) in the folder
// out, all or nothing: they are written and synced in a temporary folder
// beside out, checked, and renamed into place. A folder out that exists is
// moved aside first and removed after the rename, so a crash in between
// leaves it beside out, never half-written.
func Write(out string, files map[string][]byte, o WriteOptions) error {
	out = filepath.Clean(out)
	exists, err := usable(out, o.Force)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".import-")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := writeAll(tmp, files); err != nil {
		return err
	}
	if o.Check != nil {
		if err := o.Check(tmp); err != nil {
			return err
		}
	}
	if exists {
		old := tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return err
		}
		if err := os.Rename(tmp, out); err != nil {
			if rerr := os.Rename(old, out); rerr != nil {
				return fmt.Errorf("%w; the previous %s is now %s", err, out, old)
			}
			return err
		}
		done = true
		syncDir(filepath.Dir(out))
		return os.RemoveAll(old)
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	done = true
	syncDir(filepath.Dir(out))
	return nil
}

// usable reports whether out exists, and refuses a file, or a folder with
// anything in it unless force is set.
func usable(out string, force bool) (bool, error) {
	st, err := os.Stat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case !st.IsDir():
		return false, fmt.Errorf("%s is not a folder", out)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return false, err
	}
	if len(entries) > 0 && !force {
		return false, fmt.Errorf("%s: %w (give --force to replace it)", out, ErrNotEmpty)
	}
	return true, nil
}

func writeAll(dir string, files map[string][]byte) error {
	if err := os.Chmod(dir, 0o755); err != nil { // MkdirTemp makes it private
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !filepath.IsLocal(filepath.FromSlash(name)) {
			return fmt.Errorf("%q is not a path inside the output folder", name)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeSynced(p, files[name]); err != nil {
			return err
		}
	}
	return nil
}

func writeSynced(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable where the system allows it.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync() //nolint:errcheck // not every system syncs folders
		f.Close()
	}
}
