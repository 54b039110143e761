package azure

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

var twoFiles = map[string][]byte{"privdns.yaml": []byte("new\n"), "zones/z.zone": []byte("zone\n")}

func TestWriteGoesThroughATemporaryFolder(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	var seen string
	err := Write(out, twoFiles, WriteOptions{Check: func(dir string) error {
		seen = dir
		if filepath.Dir(dir) != parent || dir == out {
			t.Errorf("checked in %s, want a folder beside %s", dir, out)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists before the check passed", out)
		}
		if got := readTree(t, dir); got["zones/z.zone"] != "zone\n" || got["privdns.yaml"] != "new\n" {
			t.Errorf("temporary folder holds %v", got)
		}
		return nil
	}})
	if err != nil || seen == "" {
		t.Fatalf("write: %v (checked in %q)", err, seen)
	}
	if got := readTree(t, out); len(got) != 2 || got["zones/z.zone"] != "zone\n" {
		t.Errorf("out holds %v", got)
	}
	if names := entries(t, parent); len(names) != 1 || names[0] != "out" {
		t.Errorf("left beside out: %v", names)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o755 {
		t.Errorf("out has mode %v", st.Mode().Perm())
	}
}

func TestWriteRefusesANonEmptyFolderUnlessForced(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	os.MkdirAll(filepath.Join(out, "zones"), 0o755)
	os.WriteFile(filepath.Join(out, "privdns.yaml"), []byte("old\n"), 0o644)
	os.WriteFile(filepath.Join(out, "zones", "stale.zone"), []byte("stale\n"), 0o644)

	if err := Write(out, twoFiles, WriteOptions{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("non-empty out without force: %v", err)
	}
	if got := readTree(t, out); got["privdns.yaml"] != "old\n" || len(got) != 2 {
		t.Errorf("refused write changed out: %v", got)
	}
	// A failed check leaves the old contents in place.
	fail := errors.New("check failed")
	if err := Write(out, twoFiles, WriteOptions{Force: true, Check: func(string) error { return fail }}); !errors.Is(err, fail) {
		t.Fatalf("got %v", err)
	}
	if got := readTree(t, out); got["privdns.yaml"] != "old\n" || len(got) != 2 {
		t.Errorf("failed check changed out: %v", got)
	}
	if names := entries(t, parent); len(names) != 1 {
		t.Errorf("left beside out: %v", names)
	}
	// --force replaces the folder as a whole: the stale zone file goes.
	if err := Write(out, twoFiles, WriteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, out); len(got) != 2 || got["privdns.yaml"] != "new\n" || got["zones/stale.zone"] != "" {
		t.Errorf("forced write: %v", got)
	}
	if names := entries(t, parent); len(names) != 1 {
		t.Errorf("left beside out: %v", names)
	}
}

func TestWriteAcceptsAnEmptyFolderAndRefusesAFile(t *testing.T) {
	parent := t.TempDir()
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	if err := Write(empty, twoFiles, WriteOptions{}); err != nil {
		t.Errorf("empty out: %v", err)
	}
	file := filepath.Join(parent, "file")
	os.WriteFile(file, nil, 0o644)
	if err := Write(file, twoFiles, WriteOptions{Force: true}); err == nil {
		t.Error("a file as out was accepted")
	}
	if err := Write(filepath.Join(parent, "bad"), map[string][]byte{"../escape": nil}, WriteOptions{}); err == nil {
		t.Error("a path outside out was written")
	}
	if _, err := os.Stat(filepath.Join(parent, "escape")); err == nil {
		t.Error("wrote outside out")
	}
}
