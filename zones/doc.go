// Package zones holds private DNS zones in memory and answers lookups in
// them by SPEC rule R3: exact matches, CNAMEs, NODATA for existing names and
// empty non-terminals, RFC 4592 wildcards and NXDOMAIN, each with the zone's
// negative SOA where one is due.
//
// A Zone is loaded once from a master file and/or inline records, validated
// as a whole (Load reports every problem with its file and line), and then
// never changes, so any number of goroutines look it up without locks and a
// reload swaps in a new Zone.
//
// Sharp edge: that immutability is a promise callers keep. Lookup hands out
// the zone's own records, SOA and slices without copying, to keep the query
// path free of allocations; changing anything a Result or Zone.SOA returns
// changes the zone under every concurrent reader. Copy (dns.Copy) before
// editing.
package zones
