// Package cache remembers public DNS answers (SPEC R9) in front of an upstream Exchanger:
// positive answers for their clamped TTL, NXDOMAIN and NODATA for the SOA minimum
// (RFC 2308), failures briefly (RFC 9520), optionally stale answers (RFC 8767), and it
// prefetches popular entries before they expire.
//
// Its sharp edge: the route is part of every key. Wrap one Exchanger per public route and
// name the route honestly, or answers fetched through one network's forwarding rule leak to
// another network's clients.
package cache
