// Package xfr holds the pieces of zone transfer (R12) that both sides
// share, TSIG keys, RFC 1982 serials and the transfer metrics, and the
// outbound side as plain functions the server calls: answering SOA, AXFR
// and IXFR requests for a zone (Serve), the history of changes IXFR
// answers from (History), the serial a reloaded zone is served with
// (NextServed) and NOTIFY (Notifier).
//
// Sharp edge: Serve and HandleNotify (zones/secondary) trust the
// writer's TsigStatus. Behind miekg/dns's server that is set only when the
// server has a TsigProvider (a Keyring holding every key); behind a
// transport of privdns's own, hand them a Writer, which verifies. Without
// either, a signed request would reach Serve unverified.
package xfr
