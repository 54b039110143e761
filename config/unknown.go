package config

import (
	"fmt"
	"slices"
	"strings"
)

// unknownKeys reports every key the decoder did not read: a misspelt key
// is silently ignored by viper, and a silently ignored link or policy is
// the kind of mistake that only shows in production. Keys come from the
// settings tree and, for YAML, from the positions, which also hold keys
// with null values that viper drops.
func (r *report) unknownKeys(tree map[string]any) {
	paths := map[string]bool{}
	collectPaths(tree, "", paths)
	for p := range r.positions {
		paths[p] = true
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	slices.Sort(sorted)
	for _, p := range sorted {
		parent := parentPath(p)
		if _, ok := r.known[p]; ok || r.isBroken(parent) {
			continue
		}
		if _, ok := r.known[parent]; ok || parent == "" {
			r.errorf(p, "unknown key%s", r.suggest(p))
		}
	}
}

// collectPaths adds the lower-cased path of every key and list item below
// v to paths.
func collectPaths(v any, path string, paths map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := joinPath(path, k)
			paths[p] = true
			collectPaths(child, p, paths)
		}
	case []any:
		for i, child := range v {
			p := fmt.Sprintf("%s[%d]", path, i)
			paths[p] = true
			collectPaths(child, p, paths)
		}
	}
}

// suggest returns " (did you mean x?)" when a known sibling of the unknown
// key path is a small edit away.
func (r *report) suggest(path string) string {
	parent, name := parentPath(path), path[len(parentPath(path)):]
	name = strings.TrimPrefix(name, ".")
	best, bestDist := "", 3
	for k, canonical := range r.known {
		if parentPath(k) != parent || strings.HasSuffix(k, "]") {
			continue
		}
		sibling := canonical[strings.LastIndex(canonical, ".")+1:]
		if d := editDistance(name, strings.ToLower(sibling)); d < bestDist || d == bestDist && sibling < best {
			best, bestDist = sibling, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
