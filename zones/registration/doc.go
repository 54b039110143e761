// Package registration keeps the registrations of one registration zone
// (SPEC R13): it applies RFC 2136 UPDATE messages the server has already
// routed to the zone and authenticated (TSIG verified, the client's
// network checked), judges them by R13's rules, journals each accepted
// one in dataDir before it is acknowledged, expires address registrations
// that are not renewed, and serves the zone's manual data plus the
// registered records as one immutable *zones.Zone whose SOA serial grows
// with every change (R12).
//
// A Registry is a mutex around its updates and an atomic pointer to what
// is served: Current, PTR and Registrations are lock-free reads of one
// snapshot, rebuilt and swapped whole on each change.
//
// Order of the checks in Update, each answered with its rcode and nothing
// changed: the zone section (RFC 2136 §3.1: FORMERR, NOTAUTH), the
// prerequisites (§3.2: FORMERR, NOTZONE, NXDOMAIN, YXDOMAIN, NXRRSET,
// YXRRSET) against the zone as served, the update section's prescan
// (§3.4.1: NOTZONE, FORMERR), then R13 (REFUSED), then the journal
// (SERVFAIL when the append fails).
//
// Sharp edge: Update trusts its Principal. The package cannot tell a
// spoofed source address or an unverified TSIG from real ones: the server
// must hand it the key name only after TSIG verified (and the client's
// address only for an unsigned update from a network with a
// registrationEnabled link), or anyone may register anything. And every
// change rebuilds the whole served zone, so an update costs time in
// proportion to the zone's size, not the update's.
package registration
