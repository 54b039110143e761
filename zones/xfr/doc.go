// Package xfr holds the pieces of zone transfer (R12) that both sides
// share, TSIG keys, RFC 1982 serials and the transfer metrics, and the
// outbound side as plain functions the server calls: answering SOA, AXFR
// and IXFR requests for a zone (Serve), the history of changes IXFR
// answers from (History), the serial a reloaded zone is served with
// (NextServed) and NOTIFY (Notifier).
//
// Sharp edge: TSIG verification of requests happens in miekg/dns's server
// before a handler runs, and only when that server has a TsigProvider.
// The server must set dns.Server.TsigProvider to a Keyring holding every
// key; without one, signed requests reach Serve unverified and answers
// cannot be signed.
package xfr
