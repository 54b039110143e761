// Package wire reads and writes the few parts of DNS messages that the
// fast path handles as bytes, without unpacking them: the header of a
// packet, the question and OPT record of a plain query, the TTL fields of
// a packed reply, and replies known only by a header; and which requests
// go to a Handler's Direct (MaybeDirect). Every function is pure: bytes
// (or a message) in, bytes (or values) out, no state.
//
// Sharp edge: what ParseQuestion accepts, miekg/dns's Unpack must accept
// the same way (FuzzParseQuestion checks it); anything unusual is refused
// so that the full path, with its exact R7 answers, takes it.
package wire
