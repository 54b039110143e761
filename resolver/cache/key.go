package cache

import "github.com/miekg/dns"

// key identifies one cacheable question on one route. Everything that can change the
// upstream's answer is in it: name, type, class, the DNSSEC bits and the route.
type key struct {
	name   string
	route  string
	qtype  uint16
	qclass uint16
	do, cd bool
}

// keyOf builds the key for a single-question request; the name is case-folded because
// DNS names compare case-insensitively (RFC 4343) while clients randomise case.
func keyOf(route string, req *dns.Msg) key {
	q := req.Question[0]
	k := key{name: foldASCII(q.Name), route: route, qtype: q.Qtype, qclass: q.Qclass, cd: req.CheckingDisabled}
	if opt := req.IsEdns0(); opt != nil {
		k.do = opt.Do()
	}
	return k
}

// foldASCII lower-cases ASCII letters only (RFC 4343: DNS case-insensitivity is ASCII) and
// returns s itself, without allocating, when it is already lower case.
func foldASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + ('a' - 'A')
				}
			}
			return string(b)
		}
	}
	return s
}
