package zones

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// fastRecords is eachRecord for the master files most private zones are:
// one record a line, A and AAAA records by the thousand, a few others,
// $TTL and $ORIGIN. It reads such a file three to four times faster than
// dns.ZoneParser, and without a dns.RR allocated per A or AAAA record.
//
// Sharp edge: it must read every file it accepts exactly as the zone
// parser would, so it declines (ok == false) anything it is not sure of:
// parentheses, quotes, escapes, carriage returns, $INCLUDE, $GENERATE,
// TTLs with units, classes other than IN, names or addresses it does not
// parse itself, and every syntax error. Then the records it handed to fn
// are to be dropped and the file read again by eachRecord, which also
// words the errors. Records of other types are parsed one line at a time
// by dns.ZoneParser, given their owner and TTL.
func fastRecords(origin, file string, fn func(entry)) (sources []*source, ok bool) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, false
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	hr := newHashingReader(abs, f)
	br := bufio.NewReaderSize(hr, 64<<10)
	p := fastParser{origin: origin, ttl: defaultTTL, file: file}
	for n := 1; ; n++ {
		text, err := br.ReadSlice('\n')
		if err != nil && err != io.EOF {
			return nil, false // a line over 64 KiB, or a read error
		}
		if len(text) > 0 && !p.line(text, n, fn) {
			return nil, false
		}
		if err == io.EOF {
			return []*source{hr.done()}, true
		}
	}
}

// fastParser is the state the zone parser keeps from line to line.
type fastParser struct {
	origin string
	ttl    uint32 // for records without one: $TTL's, else the last one stated
	byDir  bool   // ttl is $TTL's
	owner  string // of the last record, for lines that start with a blank
	file   string // as shown in locations

	name []byte  // scratch for names
	a    []dns.A // A records, allocated a block at a time
	aaaa []dns.AAAA
	ips  []byte
}

// maxFields is the most fields a line of an A or AAAA record has: owner,
// TTL, class, type and address.
const maxFields = 5

// line reads one line, handing its record to fn; false: declined.
func (p *fastParser) line(text []byte, n int, fn func(entry)) bool {
	if i := bytes.IndexByte(text, ';'); i >= 0 {
		text = text[:i]
	} else if text[len(text)-1] == '\n' {
		text = text[:len(text)-1]
	}
	if bytes.ContainsAny(text, "()\"\\\r") {
		return false
	}
	var fields [maxFields][]byte
	var starts [maxFields]int
	nf := 0
	for i := 0; i < len(text); {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
		if i == len(text) {
			break
		}
		j := i
		for j < len(text) && text[j] != ' ' && text[j] != '\t' {
			j++
		}
		if nf == maxFields {
			nf++ // more than an A record has: only the type's start matters
			break
		}
		fields[nf], starts[nf] = text[i:j], i
		nf++
		i = j
	}
	if nf == 0 {
		return true // blank or a comment
	}
	blank := text[0] == ' ' || text[0] == '\t'
	if !blank && fields[0][0] == '$' {
		return p.directive(fields[:min(nf, maxFields)], nf)
	}
	owner, i := p.owner, 0
	if !blank {
		var ok bool
		if owner, ok = p.absolute(fields[0]); !ok {
			return false
		}
		i = 1
	} else if owner == "" {
		return false
	}
	// [TTL] [class] type, or [class] [TTL] type.
	ttl, hasTTL, hasClass := p.ttl, false, false
	for ; i < min(nf, maxFields); i++ {
		f := fields[i]
		if t, ok := parseTTL(f); ok && !hasTTL {
			ttl, hasTTL = t, true
			continue
		}
		if bytes.EqualFold(f, []byte("IN")) && !hasClass {
			hasClass = true
			continue
		}
		break
	}
	if i >= min(nf, maxFields) {
		return false // no type
	}
	if hasTTL && !p.byDir {
		p.ttl = ttl
	}
	p.owner = owner
	hdr := dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: ttl}
	var rr dns.RR
	switch typ := fields[i]; {
	case bytes.EqualFold(typ, []byte("A")):
		if nf != i+2 {
			return false
		}
		ip, ok := parseIPv4(fields[i+1])
		if !ok {
			return false
		}
		rr = p.newA(hdr, ip)
	case bytes.EqualFold(typ, []byte("AAAA")):
		if nf != i+2 || bytes.IndexByte(fields[i+1], ':') < 0 {
			return false
		}
		ip, err := netip.ParseAddr(string(fields[i+1]))
		if err != nil || ip.Zone() != "" {
			return false
		}
		rr = p.newAAAA(hdr, ip.As16())
	default:
		var ok bool
		if nf == i+1 {
			return false // no data: the zone parser reads a line or an end of file differently
		}
		if rr, ok = p.other(owner, ttl, text[starts[i]:]); !ok {
			return false
		}
	}
	fn(entry{rr: rr, loc: Error{File: p.file, Line: n}})
	return true
}

// directive reads $TTL and $ORIGIN; false for anything else.
func (p *fastParser) directive(fields [][]byte, nf int) bool {
	if nf != 2 {
		return false
	}
	switch {
	case bytes.EqualFold(fields[0], []byte("$TTL")):
		ttl, ok := parseTTL(fields[1])
		if !ok {
			return false
		}
		p.ttl, p.byDir = ttl, true
	case bytes.EqualFold(fields[0], []byte("$ORIGIN")):
		name, ok := p.absolute(fields[1])
		if !ok {
			return false
		}
		p.origin = name
	default:
		return false
	}
	return true
}

// absolute is the zone parser's name made absolute under the origin, for
// names of letters, digits and "-_*./" only.
func (p *fastParser) absolute(tok []byte) (string, bool) {
	if len(tok) == 1 && tok[0] == '@' {
		return p.origin, true
	}
	for _, c := range tok {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '*', c == '.', c == '/':
		default:
			return "", false
		}
	}
	p.name = append(p.name[:0], tok...)
	if tok[len(tok)-1] != '.' {
		if p.origin != "." {
			p.name = append(p.name, '.')
		}
		p.name = append(p.name, p.origin...)
	}
	name := string(p.name)
	if _, ok := dns.IsDomainName(name[:len(tok)]); !ok {
		return "", false
	}
	return name, true
}

// other parses a record of another type than A and AAAA with the zone
// parser, given its owner and TTL: rest is the line from its type on.
func (p *fastParser) other(owner string, ttl uint32, rest []byte) (dns.RR, bool) {
	text := owner + " " + strconv.FormatUint(uint64(ttl), 10) + " IN " + string(rest) + "\n"
	zp := dns.NewZoneParser(strings.NewReader(text), p.origin, "")
	rr, ok := zp.Next()
	if !ok || zp.Err() != nil {
		return nil, false
	}
	if _, more := zp.Next(); more || zp.Err() != nil {
		return nil, false
	}
	return rr, true
}

// block is how many A or AAAA records are allocated at once.
const block = 256

func (p *fastParser) newA(hdr dns.RR_Header, ip [4]byte) dns.RR {
	if len(p.a) == cap(p.a) {
		p.a = make([]dns.A, 0, block)
	}
	hdr.Rrtype = dns.TypeA
	p.a = append(p.a, dns.A{Hdr: hdr, A: p.addr(ip[:])})
	return &p.a[len(p.a)-1]
}

func (p *fastParser) newAAAA(hdr dns.RR_Header, ip [16]byte) dns.RR {
	if len(p.aaaa) == cap(p.aaaa) {
		p.aaaa = make([]dns.AAAA, 0, block)
	}
	hdr.Rrtype = dns.TypeAAAA
	p.aaaa = append(p.aaaa, dns.AAAA{Hdr: hdr, AAAA: p.addr(ip[:])})
	return &p.aaaa[len(p.aaaa)-1]
}

// addr copies an address into the block of addresses, capped.
func (p *fastParser) addr(ip []byte) net.IP {
	if len(p.ips)+len(ip) > cap(p.ips) {
		p.ips = make([]byte, 0, 16*block)
	}
	start := len(p.ips)
	p.ips = append(p.ips, ip...)
	return p.ips[start:len(p.ips):len(p.ips)]
}

// parseTTL reads a TTL of at most nine digits (no units, no overflow).
func parseTTL(f []byte) (uint32, bool) {
	if len(f) == 0 || len(f) > 9 {
		return 0, false
	}
	var v uint32
	for _, c := range f {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint32(c-'0')
	}
	return v, true
}

// parseIPv4 reads a dotted quad as net.ParseIP does: four decimal octets
// of at most 255, no leading zeros.
func parseIPv4(f []byte) ([4]byte, bool) {
	var ip [4]byte
	k := 0
	for i := 0; i < 4; i++ {
		if i > 0 {
			if k == len(f) || f[k] != '.' {
				return ip, false
			}
			k++
		}
		start, v := k, 0
		for k < len(f) && '0' <= f[k] && f[k] <= '9' && k-start < 3 {
			v = v*10 + int(f[k]-'0')
			k++
		}
		if k == start || v > 255 || (k-start > 1 && f[start] == '0') {
			return ip, false
		}
		ip[i] = byte(v)
	}
	return ip, k == len(f)
}
