package azure

import (
	"cmp"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Options are the choices of `privdns import azure`.
type Options struct {
	// Upstreams become upstreams.servers; none leaves upstreams out, so
	// privdns forwards to the nameservers of /etc/resolv.conf.
	Upstreams []string
	// SkipAutoregistered leaves out the record sets Azure registered
	// through a registration-enabled link (--autoregistered skip); by
	// default they are written, each with a comment.
	SkipAutoregistered bool
	// DataDir is server.dataDir for a configuration with a
	// registration-enabled link, which needs one (R13); "" means "data".
	DataDir string
}

// Result is what an import produced: the files to write, keyed by their
// slash-separated path in the output folder, a summary line per zone, and
// notices about what was skipped or changed.
type Result struct {
	Files   map[string][]byte
	Summary []string
	Notices []string
}

type importer struct {
	opts    Options
	c       collector
	e       estate
	skipped map[string]*skipped
	jsons   int
}

// Import reads every *.json file below the root of fsys (paths in messages
// are relative to it) and returns the configuration they describe. The
// error, if any, is Problems holding every problem found; the Result then
// holds no files, only the notices.
func Import(fsys fs.FS, opts Options) (*Result, error) {
	if opts.DataDir == "" {
		opts.DataDir = "data"
	}
	im := &importer{opts: opts, e: estate{seen: map[string]seen{}}, skipped: map[string]*skipped{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			im.c.errorf(loc{file: p}, "cannot read: %v", err)
			return nil
		case d.IsDir():
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				im.c.noticef("%s: skipped (a hidden folder)", p)
				return fs.SkipDir
			}
			return nil
		case !strings.EqualFold(path.Ext(p), ".json"):
			im.c.noticef("%s: skipped (not a .json file)", p)
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			im.c.errorf(loc{file: p}, "cannot read: %v", err)
			return nil
		}
		im.jsons++
		im.readFile(p, data)
		return nil
	})
	if err != nil {
		im.c.errorf(loc{}, "cannot read the folder: %v", err)
	}
	if im.jsons == 0 && len(im.c.problems) == 0 {
		im.c.errorf(loc{}, "no .json file in the folder: put what the az commands print there (see the README, \"Coming from Azure\")")
	}
	im.noteSkipped()
	p := im.resolve()
	im.noteCounts(p)
	res := &Result{}
	files, summary := im.render(p)
	res.Notices = im.c.notices
	if len(im.c.problems) > 0 {
		return res, im.c.sorted()
	}
	res.Files, res.Summary = files, summary
	if len(opts.Upstreams) == 0 {
		res.Notices = append(res.Notices, "upstreams: none given (--upstream); privdns will forward public names to the nameservers of /etc/resolv.conf (in Azure: --upstream 168.63.129.16:53)")
	}
	return res, nil
}

// readFile reads one file: an array of objects, one object, or an ARM
// list {"value": [...]}.
func (im *importer) readFile(name string, data []byte) {
	root, _, serr := parseJSON(data)
	if serr != nil {
		im.c.problems = append(im.c.problems, Problem{File: name, Line: serr.Line, Col: serr.Col, Msg: serr.Msg})
		return
	}
	top := node{c: &im.c, file: name, v: root}
	var objects []node
	switch {
	case top.is(kindArray):
		objects = top.items()
	case top.is(kindObject) && !top.get("type").present() && top.get("value").is(kindArray):
		objects = top.get("value").items()
		if next := top.get("nextLink"); next.is(kindString) && next.v.text != "" {
			im.c.noticef("%s: nextLink: Azure has more of this list on another page, which is not in this file", name)
		}
	case top.is(kindObject):
		objects = []node{top}
	default:
		top.errorf("want a list of objects, one object or {\"value\": [...]}, not %s", top.describe())
	}
	for _, o := range objects {
		im.readObject(o)
	}
}

// noteSkipped gives one notice per type of object not imported.
func (im *importer) noteSkipped() {
	var list []*skipped
	for _, s := range im.skipped {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b *skipped) int { return cmp.Compare(strings.ToLower(a.typ), strings.ToLower(b.typ)) })
	for _, s := range list {
		what := fmt.Sprintf("type %s", s.typ)
		if s.typ == "" {
			what = "no type"
		}
		more := ""
		if s.n > 1 {
			more = fmt.Sprintf(" and %d more like it", s.n-1)
		}
		im.c.noticef("%s: skipped an object of %s%s (privdns imports zones, record sets, links, VNets and forwarding rulesets)", s.first, what, more)
	}
}

// noteCounts compares Azure's own counts of a zone's record sets and links
// with what the input holds, which tells of a listing left out.
func (im *importer) noteCounts(p *plan) {
	for _, oz := range p.zones {
		z := oz.z
		if z.recordSets >= 0 && int64(len(oz.sets)) < z.recordSets {
			im.c.noticef("%s: zone %s: Azure counts %d record sets, the input holds %d: was `az network private-dns record-set list` run for it?", z.at, z.fqdn, z.recordSets, len(oz.sets))
		} else if z.recordSets < 0 && len(oz.sets) == 0 {
			im.c.noticef("%s: zone %s: no record sets in the input, not even its SOA: was `az network private-dns record-set list` run for it?", z.at, z.fqdn)
		}
		if z.links >= 0 && int64(len(oz.links)) < z.links {
			im.c.noticef("%s: zone %s: Azure counts %d virtual network links, the input holds %d: was `az network private-dns link vnet list` run for it?", z.at, z.fqdn, z.links, len(oz.links))
		}
	}
}
