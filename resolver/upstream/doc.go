// Package upstream sends the public queries of privdns to upstream resolvers
// (SPEC R6, R10): plain DNS over UDP with TCP retry on truncation, and DNS over
// TLS with pooled connections, spread over a Group of targets by a Policy and
// guarded by per-target health and in-flight limits.
//
// Its sharp edge is that it faces the open network: every reply is treated as
// possibly forged. Each attempt uses a fresh random ID and a fresh connected
// UDP socket, and a reply whose ID, source or question does not match is
// dropped while the wait goes on, so one spoofed or garbled packet can neither
// poison nor abort an exchange.
package upstream
