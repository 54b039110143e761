// Package listen owns privdns's sockets: one Listener per configured
// address serves UDP and TCP on the same port and hands every request to a
// Handler. UDP on a specific address (and on 0.0.0.0, through IP_PKTINFO)
// is read and written in batches (recvmmsg/sendmmsg) by one reader per
// socket, with one SO_REUSEPORT socket per two CPUs on 4 CPUs or more; TCP
// follows RFC 7766 (pipelining, idle timeouts, a bound on connections).
// The listeners of one server share Limits: their TCP connections are
// bounded together, and a UDP query meets the rate limiter before anything
// else is done with it.
//
// Sharp edge: a reader never waits on an upstream. Ready-packed replies
// are sent inline from the reader's batch; everything else is answered on
// a goroutine of its own, at most Options.MaxInFlight at once, beyond which
// the Handler is asked for an answer that needs no upstream.
package listen
