package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/privdns/privdns/config"
)

// settle is how long the watcher waits after the last file event before
// it looks at the files: editors and Kubernetes write in several steps.
// However often they come, it looks at most maxSettle after the first.
const settle = 300 * time.Millisecond

var maxSettle = 2 * time.Second // a variable for tests

// recheckEvery is how often the watcher looks again at which folders it
// must watch, for those that could not be watched (missing) and for
// configurations that SIGHUP loaded.
const recheckEvery = 5 * time.Second

// watch reloads when the configuration file or a zone file it names
// changes. It watches their folders, not the files, so that editors that
// write a new file and rename it over the old one, and Kubernetes
// ConfigMap updates (a symlink swap), are seen; it reloads only when the
// files' contents differ from what was last loaded or tried.
func (s *server) watch(ctx context.Context) error {
	s.mu.Lock()
	file := s.cfg.File
	s.mu.Unlock()
	if file == "" {
		return nil // the embedded default has no file to watch
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	_, files, _ := s.rewatch(w)
	settleCap := maxSettle
	// refresh watches what the configuration now names; it reports
	// whether something is newly watched, which may have changed before:
	// a folder, or a file new to the configuration.
	missing, seen := false, s.lastAttempt()
	refresh := func() bool {
		added, now, gaps := s.rewatch(w)
		for f := range now {
			added = added || !files[f]
		}
		files, missing, seen = now, gaps, s.lastAttempt()
		return added
	}
	recheck := time.NewTicker(recheckEvery)
	go func() {
		defer w.Close()
		defer recheck.Stop()
		// A file may change before its folder is watched: look once the
		// watch is in place, and again whenever a new folder is added.
		timer := time.After(settle)
		var first time.Time // of the events the timer waits out
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-w.Events:
				// Other files in the folders (logs, say) are not ours:
				// were they to move the timer, a folder written to
				// all the time would hold every reload back.
				name := filepath.Clean(ev.Name)
				switch {
				case files[name], strings.HasPrefix(filepath.Base(name), ".."):
				case holdsOurs(files, name):
					// A folder on the way to our files was replaced (a
					// symlink swapped, a folder made anew): the watches
					// below it follow the old one. rewatch adds them
					// again, on what the path now leads to.
					unwatchUnder(w, name)
				default:
					continue
				}
				now := time.Now()
				if first.IsZero() {
					first = now
				}
				timer = time.After(max(0, min(settle, first.Add(settleCap).Sub(now))))
			case err := <-w.Errors:
				s.log.Warn("file watch error", "err", err)
			case <-timer:
				timer, first = nil, time.Time{}
				s.reloadIfChanged()
				if refresh() {
					timer = time.After(settle)
				}
				select {
				case s.checked <- struct{}{}: // nil in production: never
				default:
				}
			case <-recheck.C:
				// Folders missing when last looked at, and the files of
				// a configuration loaded by SIGHUP, are taken in here.
				if (missing || s.lastAttempt() != seen) && refresh() {
					timer = time.After(settle)
				}
			}
		}
	}()
	return nil
}

// rewatch makes w watch the folders of the configuration's files: those
// the file on disk names now (even if it does not load) and those of the
// running configuration. It reports whether it added a folder, the files
// (as named, and where their symlinks lead), and whether a folder is
// missing or could not be watched. It watches each file's
// folder, the folder above it (where a swapped or remade folder shows),
// and the folder a symlinked file leads to; for a folder that does not
// exist, the nearest one above that does. Kubernetes swaps a ConfigMap's
// files through entries named "..something" in the same folders, which
// the caller watches too.
func (s *server) rewatch(w *fsnotify.Watcher) (added bool, files map[string]bool, missing bool) {
	s.mu.Lock()
	list := append(config.Files(s.cfg.File), zoneFiles(s.cfg)...)
	s.mu.Unlock()
	dirs := map[string]bool{}
	files = map[string]bool{}
	for _, f := range list {
		f = filepath.Clean(f)
		files[f] = true
		dir := existing(filepath.Dir(f))
		missing = missing || dir != filepath.Dir(f)
		dirs[dir] = true
		dirs[existing(filepath.Dir(filepath.Dir(f)))] = true
		if real, err := filepath.EvalSymlinks(f); err == nil && real != f {
			files[real] = true
			dirs[filepath.Dir(real)] = true
		}
	}
	// Folders compare by where they lead: a folder and a symlink to it
	// are one inotify watch, which WatchList names once.
	want := map[string]string{} // resolved folder → the name to watch it by
	for d := range dirs {
		if r := resolved(d); want[r] == "" {
			want[r] = d
		}
	}
	watched := map[string]bool{} // resolved
	for _, d := range w.WatchList() {
		r := resolved(d)
		if want[r] == "" {
			w.Remove(d)
			continue
		}
		watched[r] = true
	}
	for r, d := range want {
		if watched[r] {
			continue
		}
		if err := w.Add(d); err != nil {
			s.log.Debug("cannot watch folder", "folder", d, "err", err)
			missing = true
			continue
		}
		added = true
	}
	return added, files, missing
}

// resolved is dir with its symlinks followed, or dir if that fails.
func resolved(dir string) string {
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return r
	}
	return dir
}

// lastAttempt is the fingerprint of the files last loaded or tried.
func (s *server) lastAttempt() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempted
}

// existing returns dir, or the nearest folder above it that exists.
func existing(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return dir
		}
		dir = up
	}
}

// holdsOurs reports whether dir is a folder on the way to one of files.
func holdsOurs(files map[string]bool, dir string) bool {
	for f := range files {
		if strings.HasPrefix(f, dir+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// unwatchUnder stops w watching dir and the folders below it.
func unwatchUnder(w *fsnotify.Watcher, dir string) {
	for _, d := range w.WatchList() {
		if d == dir || strings.HasPrefix(d, dir+string(filepath.Separator)) {
			w.Remove(d)
		}
	}
}

func (s *server) reloadIfChanged() {
	s.mu.Lock()
	changed := fingerprint(s.cfg.File) != s.attempted
	s.mu.Unlock()
	if changed {
		s.Reload("file change")
	}
}

func zoneFiles(cfg *config.Config) []string {
	var files []string
	for _, z := range cfg.Zones {
		if z.File != "" {
			files = append(files, z.File)
		}
	}
	return files
}

// fingerprint hashes the configuration file at file and the zone files it
// names, as they are on disk now ("" for the embedded default).
func fingerprint(file string) string {
	if file == "" {
		return ""
	}
	h := sha256.New()
	for _, f := range config.Files(file) {
		io.WriteString(h, f+"\x00")
		if data, err := os.ReadFile(f); err == nil {
			h.Write(data)
		} else {
			io.WriteString(h, "missing")
		}
		io.WriteString(h, "\x00")
	}
	return hex.EncodeToString(h.Sum(nil))
}
