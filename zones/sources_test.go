package zones

import (
	"os"
	"path/filepath"
	"testing"
)

// FilesUnchanged follows the bytes of the master file and of every
// $INCLUDE: rewriting one with other bytes of the same length is a change,
// writing the same bytes again is not, and a file gone is a change.
func TestFilesUnchanged(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(dir string) error
		wantU bool
	}{
		{"untouched", func(string) error { return nil }, true},
		{"same bytes written again", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "more.zone"), []byte("y IN A 10.0.0.2\n"), 0o644)
		}, true},
		{"master edited, same length", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "z.zone"), []byte("x IN A 10.0.0.9\n$INCLUDE more.zone\n"), 0o644)
		}, false},
		{"include edited, same length", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "more.zone"), []byte("y IN A 10.0.0.8\n"), 0o644)
		}, false},
		{"include removed", func(dir string) error { return os.Remove(filepath.Join(dir, "more.zone")) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(name, text string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("z.zone", "x IN A 10.0.0.1\n$INCLUDE more.zone\n")
			write("more.zone", "y IN A 10.0.0.2\n")
			z := mustLoad(t, "z.example", filepath.Join(dir, "z.zone"), nil)
			if len(z.sources) != 2 {
				t.Fatalf("%d files recorded, want the master file and its $INCLUDE", len(z.sources))
			}
			if !z.FilesUnchanged() {
				t.Fatal("changed right after the load")
			}
			if err := c.edit(dir); err != nil {
				t.Fatal(err)
			}
			if got := z.FilesUnchanged(); got != c.wantU {
				t.Errorf("FilesUnchanged = %v, want %v", got, c.wantU)
			}
		})
	}
	if z := mustLoad(t, "z.example", "", []string{"x IN A 10.0.0.1"}); !z.FilesUnchanged() {
		t.Error("a zone of inline records only reports a change")
	}
}
