package listen

import (
	"log/slog"
	"time"
)

// Options configures a Listener. Zero values take the defaults below.
type Options struct {
	Logger *slog.Logger // nil: discard
	// MaxInFlight bounds the queries a listener answers through the full
	// path at once, for UDP and for TCP each (ready-packed answers aside);
	// beyond it a query is answered at once from what needs no upstream
	// (Handler.Answer with busy), else SERVFAIL. Default 4096.
	MaxInFlight int
	TCP         TCPOptions
	// Limits are the limits this listener shares with the server's others
	// (TCP connections, rate limiting); nil: a set of its own, with the
	// defaults.
	Limits *Limits
}

// TCPOptions are the limits of one listener's TCP connections (RFC 7766);
// the idle timeout and the bound on connections are the server's (Limits).
type TCPOptions struct {
	FirstRead time.Duration // for a new connection's first query, at most the idle timeout (0 = 5 s)
	Write     time.Duration // for one reply to be taken by the client (0 = 5 s)
	Pipeline  int           // queries of one connection answered at once (0 = 32)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 4096
	}
	o.TCP = o.TCP.withDefaults()
	if o.Limits == nil {
		o.Limits = NewLimits(LimitsOptions{})
	}
	return o
}

func (o TCPOptions) withDefaults() TCPOptions {
	if o.FirstRead <= 0 {
		o.FirstRead = 5 * time.Second
	}
	if o.Write <= 0 {
		o.Write = 5 * time.Second
	}
	if o.Pipeline <= 0 {
		o.Pipeline = 32
	}
	return o
}
