package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README is the first thing a newcomer runs commands from: these
// checks keep it runnable from a clone and inside the repository.

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(deployRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

var (
	mdLinkRE   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	autoLinkRE = regexp.MustCompile(`<(https?://[^>]+)>`)
)

func TestREADMELinksStayInTheRepository(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	for _, m := range autoLinkRE.FindAllStringSubmatch(readme, -1) {
		t.Errorf("README links outside the repository: %s", m[1])
	}
	links := mdLinkRE.FindAllStringSubmatch(readme, -1)
	for _, m := range links {
		target, _, _ := strings.Cut(m[1], "#")
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			t.Errorf("README links outside the repository: %s", m[1])
			continue
		}
		clean := filepath.Clean(target)
		if filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") {
			t.Errorf("README links outside the repository: %s", m[1])
			continue
		}
		if _, err := os.Stat(filepath.Join(deployRoot, clean)); err != nil {
			t.Errorf("README links to %s, which is not in the repository", m[1])
		}
	}
	if !strings.Contains(readme, "](docs/configuration.md)") {
		t.Error("README does not link the configuration reference docs/configuration.md")
	}
	if strings.Contains(readme, "../") {
		t.Error("README names a path outside the repository (../)")
	}
}

func TestREADMESaysHowToGetABinaryBeforeUsingIt(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	install := strings.Index(readme, "go install ./cmd/privdns")
	build := strings.Index(readme, "go build -o privdns ./cmd/privdns")
	first := regexp.MustCompile(`(?m)^(\$ )?privdns \w`).FindStringIndex(readme)
	if install < 0 || build < 0 || first == nil || first[0] < install {
		t.Errorf("go install at %d, go build at %d, first privdns command at %v: the binary must come first", install, build, first)
	}
}

// 5353 is mDNS's port: nothing a newcomer runs may listen or send there.
func TestNothingUsesTheMDNSPort(t *testing.T) {
	port := regexp.MustCompile(`(:|-p |port )5353\b`)
	files := []string{"README.md", "docs/configuration.md", "testdata/example/privdns.yaml", "config/default.yaml",
		"deploy/kubernetes/README.md", "deploy/systemd/README.md", "deploy/container/privdns.yaml"}
	for _, name := range files {
		for i, line := range strings.Split(readRepoFile(t, name), "\n") {
			if port.MatchString(line) {
				t.Errorf("%s:%d uses port 5353: %s", name, i+1, line)
			}
		}
	}
}
