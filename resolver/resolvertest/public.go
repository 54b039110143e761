package resolvertest

import (
	"context"
	"fmt"
	"os"

	"github.com/miekg/dns"
)

// Public answers like a public recursive resolver over a fixed set of
// records: CNAME chains are followed within the data, missing names get
// NXDOMAIN and missing types NODATA, both with the SOA of the closest
// enclosing zone in the data (or a default one).
type Public struct {
	names map[string][]dns.RR
	// Partial stops after the first CNAME, like an authoritative-only
	// server that does not chase chains.
	Partial bool
}

var _ dns.Handler = (*Public)(nil)

// NewPublic parses records in zone-file syntax (fully qualified owners).
func NewPublic(records ...string) (*Public, error) {
	p := &Public{names: map[string][]dns.RR{}}
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			return nil, fmt.Errorf("record %q: %w", s, err)
		}
		if rr == nil {
			continue
		}
		name := dns.CanonicalName(rr.Header().Name)
		p.names[name] = append(p.names[name], rr)
	}
	return p, nil
}

// MustPublic is NewPublic for tests with literal records.
func MustPublic(records ...string) *Public {
	p, err := NewPublic(records...)
	if err != nil {
		panic(err)
	}
	return p
}

// ServeDNS answers the question from the records.
func (p *Public) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	w.WriteMsg(p.Answer(r)) //nolint:errcheck
}

// Answer builds the reply to r.
func (p *Public) Answer(r *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(r)
	resp.RecursionAvailable = true
	if len(r.Question) != 1 {
		resp.Rcode = dns.RcodeFormatError
		return resp
	}
	qt := r.Question[0].Qtype
	cur := dns.CanonicalName(r.Question[0].Name)
	for hops := 0; hops < 20; hops++ {
		rrs, ok := p.names[cur]
		if !ok {
			resp.Rcode = dns.RcodeNameError
			resp.Ns = p.soaFor(cur)
			return resp
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range rrs {
			switch {
			case rr.Header().Rrtype == qt || qt == dns.TypeANY:
				resp.Answer = append(resp.Answer, rr)
				found = true
			case rr.Header().Rrtype == dns.TypeCNAME:
				cname = rr.(*dns.CNAME)
			}
		}
		if found {
			return resp
		}
		if cname == nil {
			resp.Ns = p.soaFor(cur)
			return resp
		}
		resp.Answer = append(resp.Answer, cname)
		if p.Partial {
			return resp
		}
		cur = dns.CanonicalName(cname.Target)
	}
	return resp
}

// soaFor returns the SOA of the closest enclosing name that has one.
func (p *Public) soaFor(name string) []dns.RR {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		for _, rr := range p.names[name[off:]] {
			if rr.Header().Rrtype == dns.TypeSOA {
				return []dns.RR{rr}
			}
		}
	}
	soa, _ := dns.NewRR(". 300 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 300")
	return []dns.RR{soa}
}

// LoadPublic reads a master file (fully qualified owners or $ORIGIN) into
// a Public.
func LoadPublic(path string) (*Public, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := &Public{names: map[string][]dns.RR{}}
	zp := dns.NewZoneParser(f, ".", path)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := dns.CanonicalName(rr.Header().Name)
		p.names[name] = append(p.names[name], rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// Exchange answers req in process, without sockets: a Public is then a
// public route of its own (fuzzers and benchmarks never wait).
func (p *Public) Exchange(_ context.Context, req *dns.Msg) (*dns.Msg, error) {
	return p.Answer(req), nil
}
