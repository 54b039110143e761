package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/viper"
)

// Files lists the files a configuration at path is made of: the file
// itself and the zone files it names, as absolute paths. It reads the file
// leniently, so that even a configuration that does not load names the
// files worth watching for the edit that fixes it.
func Files(path string) []string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return []string{path}
	}
	files := []string{abs}
	v := viper.New()
	v.SetConfigFile(abs)
	if formatOf(abs) == "yaml" {
		v.SetConfigType("yaml")
	}
	if v.ReadInConfig() != nil {
		return files
	}
	zones, _ := v.Get("zones").([]any)
	for _, z := range zones {
		m, _ := z.(map[string]any)
		if f, ok := m["file"].(string); ok && f != "" {
			if !filepath.IsAbs(f) {
				f = filepath.Join(filepath.Dir(abs), f)
			}
			files = appendWithIncludes(files, filepath.Clean(f), 0)
		}
	}
	return append(files, secretFiles(v, filepath.Dir(abs), files)...)
}

// appendWithIncludes appends a zone file and, recursively, the files its
// $INCLUDE lines name (relative to the including file's folder).
func appendWithIncludes(files []string, file string, depth int) []string {
	if slices.Contains(files, file) || depth > 8 {
		return files
	}
	files = append(files, file)
	data, err := os.ReadFile(file)
	if err != nil {
		return files
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.EqualFold(fields[0], "$INCLUDE") {
			continue
		}
		inc := fields[1]
		if !filepath.IsAbs(inc) {
			inc = filepath.Join(filepath.Dir(file), inc)
		}
		files = appendWithIncludes(files, filepath.Clean(inc), depth+1)
	}
	return files
}
