package dnsserver

import "github.com/miekg/dns"

// Flush drops the ready-packed replies to questions for name (any case),
// of type qtype or of every type when qtype is 0, for every network; with
// name "" it drops them all. The admin API calls it with the cache's
// Flush: a reply kept on a public answer would stop anyway once its cache
// entry is gone, but one kept on private data or a local zone would not,
// and the flush is then visible at once, not after the next miss.
func (h *Handler) Flush(name string, qtype uint16) {
	if name == "" {
		h.packed.epoch.Add(1)
		h.packed.cur.Store(nil)
		return
	}
	s := h.packed.cur.Load()
	if s == nil {
		return
	}
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return
	}
	wireName := buf[:n]
	for i := range s.buckets {
		b := &s.buckets[i]
		for j := range b {
			if a := b[j].Load(); a != nil && (qtype == 0 || a.qtype == qtype) && equalFoldWire(a.name, wireName) {
				b[j].CompareAndSwap(a, nil)
			}
		}
	}
}

// equalFoldWire compares two names in wire form without regard to ASCII
// case; label lengths (at most 63) are never letters.
func equalFoldWire(a string, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
