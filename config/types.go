// Package config turns privdns's configuration file (SPEC §3) into plain,
// validated structs that cmd/privdns maps onto the resolver and zones.
//
// Every problem is reported at once, each naming its file, line and key,
// so `privdns check` fixes a file in one pass. Names that refer to other
// entries (link.network, listener.network, …) are rewritten to the declared
// spelling of what they name, so consumers may compare them exactly.
//
// Sharp edge: viper folds key case, so a key's exact spelling and line come
// from a second parse of the YAML text; for TOML (and JSON that YAML cannot
// read) problems name the lower-cased key path without a line.
package config

import (
	"net/netip"
	"time"

	"github.com/privdns/privdns/zones"
)

// Config is one loaded and validated configuration: an immutable snapshot
// that a reload replaces as a whole.
type Config struct {
	File               string // absolute path of the loaded file ("" for the embedded default)
	Server             Server
	Upstreams          Upstreams
	Networks           []Network
	Zones              []Zone
	ForwardingRulesets []Ruleset
	Cache              Cache
	TSIGKeys           []TSIGKey // keys that sign transfers and NOTIFY (R12)
	Defaults           Defaults
	// Warnings are accepted oddities worth telling the user about, such as
	// NxDomainRedirect on a zone without a "privatelink" label (Azure refuses
	// it), each formatted like a Problem: "file:line: key: msg".
	Warnings []string

	serversDefaulted bool // upstreams.servers came from resolv.conf
}

// Server holds the process-wide settings of the DNS and HTTP servers.
type Server struct {
	Listeners []Listener
	HTTP      string // /metrics, /healthz, /readyz address; "" = off
	// Admin is the admin API's address (SPEC §10: cache flush, the
	// NXDOMAIN report); "" = off. Never the same as HTTP.
	Admin string
	// LocalZones serves the RFC 6303 zones locally (SPEC §10).
	LocalZones bool
	Identity   string // NSID and CHAOS id.server; "" = off
	Explain    bool   // attach R8 Extended DNS Error texts
	// UnknownClients is "refuse" or the declared name of the network that
	// clients outside every network's prefixes are treated as (R1).
	UnknownClients string
	Log            Log
	Limits         Limits
	RateLimit      RateLimit
	// DataDir is the absolute folder where transferred zones, served
	// serials and journals are kept across restarts; "" = memory only.
	DataDir string
}

// Limits bound what the server takes on at once, so that abuse or a slow
// upstream cannot exhaust it (SPEC R11). A limit reached is answered at
// once, never queued, and counted in privdns_limited_total{limit}. Every
// field is validated: none is negative, and only TCPQueriesPerConnection
// may be 0.
type Limits struct {
	// InFlight is how many client queries may wait on upstreams at once,
	// server-wide; beyond it such a query is answered SERVFAIL with EDE 14.
	// Private and cached answers never count. Default 10000, at least 1.
	InFlight int
	// TCPConnections is how many TCP connections may be open; beyond it
	// the connection idle the longest is closed (the new one when none is
	// idle). Default 1000, at least 1.
	TCPConnections int
	// TCPIdleTimeout is how long a connection may stay with no query
	// outstanding, counted from its opening or its last reply (RFC 7766).
	// Default 10s, at least 1ms.
	TCPIdleTimeout time.Duration
	// TCPQueriesPerConnection closes a connection after its Nth answer;
	// 0 (the default) means unlimited.
	TCPQueriesPerConnection int
	// UpstreamQueriesPerQuery is the budget of upstream exchanges one
	// client query may cause (chain hops, fallbacks, retries, TCP retries
	// after TC, retries without EDNS; not prefetches or health probes);
	// beyond it, SERVFAIL with EDE 0. Default 16, at least 1.
	UpstreamQueriesPerQuery int
}

// RateLimit is a token bucket per client prefix, a /24 for IPv4 and a /56
// for IPv6, for queries over UDP only (SPEC R11): a client told TC by Slip
// retries over TCP, where no rate limit applies. Its values are validated
// even while Enabled is false, so switching it on cannot reveal a typo.
type RateLimit struct {
	Enabled bool // off by default
	// QueriesPerSecond refills each prefix's bucket; default 200. It may
	// be fractional but must be above 0.
	QueriesPerSecond float64
	// Burst is the bucket's size: the queries a quiet prefix may send at
	// once. Default 400, at least 1.
	Burst int
	// Slip answers every Slip-th limited query NOERROR with TC and no
	// records, and drops the others; 0 drops them all. Default 2.
	Slip int
	// Exempt prefixes are never limited (masked; IPv4-mapped IPv6
	// prefixes are read as IPv4, as network prefixes are).
	Exempt []netip.Prefix
}

// Defaults are the values that entries naming none of their own get.
type Defaults struct {
	// ResolutionPolicy is the policy of links that name none: "Default"
	// or "NxDomainRedirect". Links carry the effective policy after
	// loading, so nothing downstream reads this.
	ResolutionPolicy string
}

// Listener is one UDP+TCP address. Network, when set, is the declared name
// of the network every query arriving here is resolved as.
type Listener struct {
	Address string
	Network string
}

// Log configures the process logger and query logging.
type Log struct {
	Level         string  // debug | info | warn | error
	Format        string  // text | json
	Queries       bool    // log every query
	QuerySampling float64 // fraction of queries logged when Queries is set, in [0, 1]
}

// Upstreams are the public resolvers of the public path (R6).
type Upstreams struct {
	// Servers are normalised to "host:port", "[v6]:port" or
	// "tls://host:port#server-name" (the "#server-name" part is optional).
	Servers []string
	Policy  string // sequential | random | roundRobin
	Timeout time.Duration
}

// Network is a client network (an Azure virtual network).
type Network struct {
	Name            string
	AddressPrefixes []netip.Prefix // masked
}

// Zone is a private zone with its links.
type Zone struct {
	Name    string   // lower-case FQDN with the trailing dot
	File    string   // absolute path of the master file, "" when none
	Records []string // inline records as written
	Links   []Link
	// Data is the loaded and validated zone, and nil for a secondary zone
	// (Primaries set): its data arrives by transfer, later, and an empty
	// stand-in would answer NXDOMAIN where R12 wants SERVFAIL.
	Data *zones.Zone
	// Primaries are the "ip:port" servers a secondary zone follows (R12);
	// none for a zone of a file or inline records.
	Primaries []string
	// TSIGKey names (as TSIGKey.Name) the key that signs requests to the
	// primaries; "" = unsigned.
	TSIGKey  string
	Transfer *Transfer // outbound transfers; nil = off
	// Registration is set for a zone that registers names (R13): a
	// registration block, or a link with registrationEnabled (then with
	// the defaults). nil: updates for the zone are refused.
	Registration *Registration
}

// Link pairs a zone with a network (an Azure virtual network link).
type Link struct {
	Name                string
	Network             string // declared name of the linked network
	ResolutionPolicy    string // "Default" | "NxDomainRedirect"
	RegistrationEnabled bool
	// FallbackTypes are the query types NxDomainRedirect falls back for
	// besides A, AAAA and CNAME, which always fall back: a link's list
	// widens Azure's, never narrows it.
	FallbackTypes []uint16
}

// Ruleset is a DNS forwarding ruleset linked to networks.
type Ruleset struct {
	Name     string
	Networks []string // declared names of the linked networks
	Rules    []Rule
}

// Rule forwards a domain and everything below it to its targets.
type Rule struct {
	Domain  string   // lower-case FQDN with the trailing dot; "." matches every name
	Targets []string // normalised like Upstreams.Servers
	State   string   // "Enabled" | "Disabled"
}

// Cache configures the public answer cache (R9).
type Cache struct {
	MaxEntries     int
	MinTTL         time.Duration
	MaxTTL         time.Duration
	MaxNegativeTTL time.Duration
	ServeStale     ServeStale
	Prefetch       bool
}

// ServeStale configures RFC 8767 stale answers.
type ServeStale struct {
	Enabled   bool
	AnswerTTL time.Duration // TTL of a stale record in the answer
	MaxAge    time.Duration // how long past expiry an answer may still be served
}
