package config

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
)

// report collects the problems and warnings of one load and knows where
// each key was written, so every check can name a key and get its line.
type report struct {
	serversDefaulted bool      // upstreams.servers came from the default, not the file
	file             string    // the configuration file as the user named it
	positions        positions // where the YAML text wrote each key; nil for TOML
	// known maps the lower-cased path of every key the decoder read to its
	// canonical spelling; keys outside it are unknown.
	known map[string]string
	// broken holds lower-cased paths whose value had the wrong type, so
	// later checks do not pile consequential errors on top.
	broken   map[string]bool
	problems Errors
	warnings []string
}

func newReport(file string, ps positions) *report {
	return &report{file: file, positions: ps, known: map[string]string{}, broken: map[string]bool{}}
}

// at locates a key. A scalar overridden from the environment is blamed on
// its variable, since the file's line would point at the wrong value.
func (r *report) at(key, msg string) Problem {
	p := Problem{File: r.file, Key: key, Msg: msg}
	if pos, ok := r.positions[strings.ToLower(key)]; ok {
		p.Key, p.Line = pos.key, pos.line
	} else {
		p.Line = r.lineOf(parentPath(key)) // a missing key: point at what should hold it
	}
	if env := envKey(key); env != "" && isSet(envName(env)) {
		p.Line = 0
		p.Msg += " (from $" + envName(env) + ")"
	}
	return p
}

// envKey returns the key whose environment variable can set key: key
// itself for a scalar, the list for an item of upstreams.servers (the one
// list the environment sets), else "".
func envKey(key string) string {
	if _, scalar := scalarDefaults[key]; scalar {
		return key
	}
	if list, _, ok := strings.Cut(key, "["); ok && list == "upstreams.servers" {
		return list
	}
	return ""
}

// lineOf returns the line of key or of its closest written parent.
func (r *report) lineOf(key string) int {
	for k := strings.ToLower(key); k != ""; k = parentPath(k) {
		if pos, ok := r.positions[k]; ok {
			return pos.line
		}
	}
	return 0
}

// errorf records a problem at key unless key (or a parent) already has a
// type error.
func (r *report) errorf(key, format string, args ...any) {
	if r.isBroken(key) {
		return
	}
	r.problems = append(r.problems, r.at(key, fmt.Sprintf(format, args...)))
}

// breakf records a problem with the value at key and silences every later
// problem at or below key.
func (r *report) breakf(key, format string, args ...any) {
	r.errorf(key, format, args...)
	r.broken[strings.ToLower(key)] = true
}

func (r *report) warnf(key, format string, args ...any) {
	r.warnings = append(r.warnings, r.at(key, fmt.Sprintf(format, args...)).Error())
}

func (r *report) isBroken(key string) bool {
	for k := strings.ToLower(key); k != ""; k = parentPath(k) {
		if r.broken[k] {
			return true
		}
	}
	return false
}

// sorted returns the problems in the order a user fixes them in: the
// configuration file's by line, then those of zone files by file and line.
func (r *report) sorted() Errors {
	out := slices.Clone(r.problems)
	other := func(p Problem) int {
		if p.File == r.file {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(other(a), other(b)), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return out
}

// parentPath returns the path holding path: "a.b[2]" → "a.b", "a.b" → "a",
// "a" → "".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// joinPath appends a key to a path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// envName is the variable that overrides a scalar key:
// "server.log.level" → "PRIVDNS_SERVER_LOG_LEVEL".
func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func isSet(env string) bool {
	_, ok := os.LookupEnv(env)
	return ok
}
