package zones

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeepSharesTheOldDataOnlyWhenItIsTheSame: a file rewritten with the
// same records (a comment added) gives a Zone of the old storage that
// knows the new file's bytes; any change a client could see (a record, a
// TTL, the case of a target) gives the new data, and so does the same
// data held in another order.
func TestKeepSharesTheOldDataOnlyWhenItIsTheSame(t *testing.T) {
	const base = "$TTL 60\n@ IN NS ns.keep.example.\nx IN A 10.0.0.1\nw IN CNAME x\n"
	var b strings.Builder
	b.WriteString(base)
	for i := range 300 {
		fmt.Fprintf(&b, "h%d IN A 10.1.%d.%d\n", i, i/250, i%250+1)
	}
	many := b.String()
	cases := []struct {
		name string
		text string
		same bool
	}{
		{"comment added", base + "; edited\n", true},
		{"spacing changed", "$TTL 60\n\n@   IN NS ns.keep.example.\nx IN  A 10.0.0.1\nw IN CNAME x\n", true},
		{"comment added to many names", many + "; edited\n", true},
		{"record added", base + "y IN A 10.0.0.2\n", false},
		{"address changed", "$TTL 60\n@ IN NS ns.keep.example.\nx IN A 10.0.0.9\nw IN CNAME x\n", false},
		{"TTL changed", "$TTL 61\n@ IN NS ns.keep.example.\nx IN A 10.0.0.1\nw IN CNAME x\n", false},
		{"target case changed", "$TTL 60\n@ IN NS ns.keep.example.\nx IN A 10.0.0.1\nw IN CNAME X\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keep.zone")
			first := base
			if strings.HasPrefix(c.text, many) {
				first = many // names laid out in map order: another each load
			}
			if err := os.WriteFile(path, []byte(first), 0o644); err != nil {
				t.Fatal(err)
			}
			old, err := Load("keep.example.", path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			z, err := Load("keep.example.", path, nil)
			if err != nil {
				t.Fatal(err)
			}
			k := z.Keep(old)
			if !c.same {
				if k != z {
					t.Fatal("data a client would see change kept the old data")
				}
				return
			}
			if k == z || k == old || &k.rrs[0] != &old.rrs[0] || k.names != old.names {
				t.Fatal("the same data not shared with the old zone")
			}
			if !k.FilesUnchanged() || old.FilesUnchanged() {
				t.Error("the kept zone does not know the new file's bytes")
			}
			if r := k.Lookup("x.keep.example.", 1); len(r.Records) != 1 {
				t.Errorf("x.keep.example. A: %v, want its A", r.Records)
			}
		})
	}
}
