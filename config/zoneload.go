package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/privdns/privdns/zones"
)

// loadZones loads every zone with a valid name, resolving relative zone
// files against dir (the configuration file's folder), and reports the
// zone's problems where they are: zone file lines under zones[i].file,
// inline records at their entry in the configuration. Zones load in
// parallel, one per CPU at a time (a million records in a thousand files
// is a few seconds of parsing), and are reported in configuration order.
// A zone prev loaded from the same name, file and records whose files are
// unchanged keeps prev's data (Reload); one whose files changed but give
// the same data keeps prev's storage (zones.Zone.Keep).
func loadZones(r *report, cfg *Config, dir string, prev *Config) {
	type loaded struct {
		file string
		data *zones.Zone
		err  error
	}
	kept := keptZones(prev)
	results := make([]loaded, len(cfg.Zones))
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range cfg.Zones {
		z := &cfg.Zones[i]
		key := fmt.Sprintf("zones[%d]", i)
		if z.Name == "" || r.isBroken(key) {
			continue // a bad name is already reported
		}
		if z.Secondary() {
			continue // its data comes by transfer: Data stays nil
		}
		file := z.File
		if file != "" {
			if !filepath.IsAbs(file) {
				file = filepath.Join(dir, file) // as the user would spell it
			}
			abs, err := filepath.Abs(file)
			if err != nil {
				r.errorf(key+".file", "absolute path of %q: %v", file, err)
				continue
			}
			z.File = abs
		}
		results[i].file = file
		wg.Add(1)
		slots <- struct{}{}
		go func(res *loaded, z *Zone) {
			defer func() { <-slots; wg.Done() }()
			old := kept[dataKey(z)]
			if old != nil && old.File() == res.file && old.FilesUnchanged() {
				res.data = old
				return
			}
			if res.data, res.err = zones.Load(z.Name, res.file, z.Records); res.err == nil {
				res.data = res.data.Keep(old)
			}
		}(&results[i], z)
	}
	wg.Wait()
	for i := range results {
		res := &results[i]
		key := fmt.Sprintf("zones[%d]", i)
		switch {
		case res.err != nil:
			r.zoneProblems(key, res.file, res.err)
		case res.data != nil:
			for _, w := range res.data.Warnings() {
				r.warnings = append(r.warnings, r.zoneProblem(key, res.file, w).Error())
			}
			cfg.Zones[i].Data = res.data
		}
	}
}

// zoneKey is what a zone's data is loaded from besides its files' bytes.
type zoneKey struct {
	name, file string // file: absolute
	records    string // the inline records, NUL-separated
}

func dataKey(z *Zone) zoneKey {
	return zoneKey{name: z.Name, file: z.File, records: strings.Join(z.Records, "\x00")}
}

// keptZones is the data of prev's zones of files or inline records, by
// what they were loaded from; nil for no prev.
func keptZones(prev *Config) map[zoneKey]*zones.Zone {
	if prev == nil {
		return nil
	}
	kept := make(map[zoneKey]*zones.Zone, len(prev.Zones))
	for i := range prev.Zones {
		if z := &prev.Zones[i]; z.Data != nil && !z.Secondary() {
			kept[dataKey(z)] = z.Data
		}
	}
	return kept
}

// zoneProblems reports the errors of zones.Load for the zone at key, whose
// master file is file.
func (r *report) zoneProblems(key, file string, err error) {
	var zerrs zones.Errors
	if !errors.As(err, &zerrs) {
		r.errorf(key, "%v", err)
		return
	}
	for _, e := range zerrs {
		if p := r.zoneProblem(key, file, e); !r.isBroken(p.Key) {
			r.problems = append(r.problems, p)
		}
	}
}

// zoneProblem locates an error or warning of zones.Load for the zone at
// key, whose master file is file: zone file lines under zones[i].file,
// inline records at their entry in the configuration.
func (r *report) zoneProblem(key, file string, e *zones.Error) Problem {
	switch {
	case e.Record > 0:
		return r.at(fmt.Sprintf("%s.records[%d]", key, e.Record-1), e.Msg)
	case e.File != "" || file != "":
		p := Problem{File: e.File, Line: e.Line, Key: key + ".file", Msg: e.Msg}
		if p.File == "" {
			p.File = file
		}
		if p.Line == 0 {
			// Not a line of the zone file (it cannot be read): point
			// at the configuration line that names it.
			detail := strings.TrimPrefix(e.Msg, "open zone file: ")
			p = r.at(key+".file", fmt.Sprintf("cannot read zone file %s: %s", p.File, detail))
		}
		return p
	default:
		return r.at(key, e.Msg)
	}
}
