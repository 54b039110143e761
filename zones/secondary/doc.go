// Package secondary follows a zone held by primaries (SPEC R12): AXFR at
// start from the first primary that answers, an SOA check every SOA
// refresh (every retry after a failure) and at once on NOTIFY, IXFR (RFC
// 1995) with a fallback to AXFR, serials compared by RFC 1982. Every
// transfer is validated as a zone file is (zones.Transferred) and swapped
// in whole; a bad or partial one is logged, counted and dropped, and the
// zone keeps its data. With a datadir.Store the last data is kept on disk
// and served at start, unless older than the SOA expire.
//
// A Secondary is one goroutine (Run) and an atomic pointer: Current is a
// single atomic load on the query path.
//
// Sharp edge: Current returns nil both before any data and while the zone
// is expired, and both must be answered SERVFAIL. Treating nil as "no such
// zone" would send the zone's names to the public path instead.
package secondary
