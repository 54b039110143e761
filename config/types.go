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
	Identity  string // NSID and CHAOS id.server; "" = off
	Explain   bool   // attach R8 Extended DNS Error texts
	// UnknownClients is "refuse" or the declared name of the network that
	// clients outside every network's prefixes are treated as (R1).
	UnknownClients string
	Log            Log
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
	Data    *zones.Zone // the loaded and validated zone
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
