// Package dnsserver answers DNS requests for privdns's listeners: it checks
// each request, asks the resolver, and shapes the reply for the wire (R7,
// R8): EDNS, truncation, CHAOS identity, the query log, and ready-packed
// UDP replies that a repeated question gets without resolving again.
//
// Sharp edge: a ready-packed reply is the bytes of an earlier answer with
// the ID, RD bit and public TTLs patched. It is kept only while nothing it
// depends on changed: the View, the Settings, and every cache entry its
// public steps used (resolver.Recorder tells which); code that changes how
// an answer is built must keep what it records in step.
package dnsserver
