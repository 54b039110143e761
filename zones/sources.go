package zones

import (
	"crypto/sha256"
	"hash"
	"io"
	"os"
)

// source is a file Load read (the master file or one of its $INCLUDEs):
// its absolute path and the length and SHA-256 of the bytes the parser
// was given, hashed as they were read, so that they are the bytes parsed.
type source struct {
	path string
	size int64
	sum  [sha256.Size]byte
}

// hashingReader passes a file's bytes on and hashes them on the way.
type hashingReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	into *source // filled by done
}

func newHashingReader(path string, r io.Reader) *hashingReader {
	return &hashingReader{r: r, h: sha256.New(), into: &source{path: path}}
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	hr.n += int64(n)
	return n, err
}

// done completes the source from what was read.
func (hr *hashingReader) done() *source {
	hr.into.size = hr.n
	hr.h.Sum(hr.into.sum[:0])
	return hr.into
}

// File is the master file as Load was given it ("" for none): the name
// its problems and warnings show.
func (z *Zone) File() string { return z.file }

// FilesUnchanged reports whether every file the zone was loaded from (the
// master file and its $INCLUDEs) still holds the bytes it was parsed
// from, so that loading it again would give the same zone: a reload keeps
// such a zone instead of parsing it anew. It reads the files through a
// hash, so an edit that keeps the size and the modification time (within
// the same second) is still seen; a file it cannot read counts as
// changed. A zone of inline records only, or one not from Load, has no
// files and is unchanged.
func (z *Zone) FilesUnchanged() bool {
	for _, s := range z.sources {
		if !s.unchanged() {
			return false
		}
	}
	return true
}

func (s *source) unchanged() bool {
	f, err := os.Open(s.path)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != s.size {
		return false // the cheap check first: most edits change the size
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil || n != s.size {
		return false
	}
	var sum [sha256.Size]byte
	return [sha256.Size]byte(h.Sum(sum[:0])) == s.sum
}
