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
}

// TCPOptions are the limits of TCP connections (RFC 7766).
type TCPOptions struct {
	FirstRead time.Duration // for a new connection's first query (0 = 5 s)
	Idle      time.Duration // between queries, none in flight (0 = 10 s)
	Write     time.Duration // for one reply to be taken by the client (0 = 5 s)
	Pipeline  int           // queries of one connection answered at once (0 = 32)
	MaxConns  int           // connections at once; more are closed at once (0 = 4096)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 4096
	}
	o.TCP = o.TCP.withDefaults()
	return o
}

func (o TCPOptions) withDefaults() TCPOptions {
	if o.FirstRead <= 0 {
		o.FirstRead = 5 * time.Second
	}
	if o.Idle <= 0 {
		o.Idle = 10 * time.Second
	}
	if o.Write <= 0 {
		o.Write = 5 * time.Second
	}
	if o.Pipeline <= 0 {
		o.Pipeline = 32
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4096
	}
	return o
}
