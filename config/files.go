package config

import (
	"path/filepath"

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
			files = append(files, filepath.Clean(f))
		}
	}
	return files
}
