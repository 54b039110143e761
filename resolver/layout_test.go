package resolver_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/privdns/privdns/"

// imports returns the imports of the non-test Go files of dir (relative
// to this package's folder).
func imports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[p] = true
		}
	}
	return out
}

// The code map of the README: the rules package holds no sockets, and
// imports point one way (listen → dnsserver → resolver → zones).
func TestPackagesImportOneWay(t *testing.T) {
	sockets := []string{"net", "syscall", "golang.org/x/sys/unix", "golang.org/x/net/ipv4", "golang.org/x/net/ipv6"}
	for _, p := range sockets {
		if imports(t, ".")[p] {
			t.Errorf("package resolver imports %s: sockets belong in resolver/listen", p)
		}
	}
	own := func(ps ...string) []string {
		for i, p := range ps {
			ps[i] = module + p
		}
		return ps
	}
	forbidden := map[string][]string{
		".":            append(own("resolver/dnsserver", "resolver/listen", "resolver/metrics", "config"), "github.com/spf13/viper"),
		"dnsserver":    append(own("resolver/listen", "resolver/metrics", "config"), "net/http"),
		"wire":         own("resolver", "resolver/dnsserver", "resolver/listen", "zones"),
		"report":       own("resolver", "resolver/cache", "resolver/upstream"),
		"listen":       own("resolver", "resolver/dnsserver", "resolver/cache", "resolver/upstream", "zones", "config"),
		"ratelimit":    own("resolver", "resolver/dnsserver", "resolver/listen", "resolver/wire", "resolver/report", "zones", "config"),
		"resolvertest": append(own("resolver"), "testing"),
		"cache":        own("resolver", "resolver/upstream"),
		"upstream":     own("resolver", "resolver/cache"),
		"../zones":     append(own("resolver", "config"), "github.com/spf13/viper"),
		// Registration is pure logic: no sockets, no serving side, no secondaries.
		"../zones/registration": append(own("resolver", "resolver/dnsserver", "resolver/listen", "config", "zones/secondary"),
			"github.com/spf13/viper", "net", "net/http", "github.com/prometheus/client_golang/prometheus"),
	}
	for dir, bad := range forbidden {
		got := imports(t, dir)
		for _, b := range bad {
			if got[b] {
				t.Errorf("%s imports %s", dir, b)
			}
		}
	}
}
