// Package metrics exports privdns's Prometheus metrics (SPEC §5): it
// implements the observer hooks of the resolver, the request handler and the
// upstream groups, reads the cache's counters at scrape time and counts
// configuration reloads. Everything registers on the prometheus.Registerer
// given to New; nothing is global.
//
// Its sharp edge is label cardinality. Every label value must come from a
// small set fixed by the configuration or the DNS protocol: network, zone,
// link and upstream names, "udp"/"tcp", known query type names (others are
// "OTHER") and rcode names. Never pass a client address or a query name:
// series live until the process exits, and the request path keeps a handle
// per label set it has seen, so an unbounded label would grow both without
// limit.
package metrics
