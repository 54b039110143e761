package listen

import (
	"net"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/wire"
)

// Handler answers what a Listener reads; server.Handler is the one privdns
// uses. Its methods are called concurrently, from many goroutines.
type Handler interface {
	// Packed writes into out a ready-made reply to the UDP packet pkt,
	// whose question is q, from the client from, and returns its length;
	// 0 when none fits and the request must go to Answer.
	Packed(pkt []byte, q *wire.Question, from netip.AddrPort, out []byte) int
	// Answer replies to req from client over proto ("udp" or "tcp"), or
	// returns nil when no reply is due. busy asks for an answer that waits
	// on no upstream: the listener is full. With q (a UDP request the fast
	// path could parse; q.Name is the Handler's to keep) the reply may be
	// kept for Packed: keep, when not nil, takes the bytes as sent.
	Answer(req *dns.Msg, client netip.Addr, proto string, busy bool, q *wire.Question) (resp *dns.Msg, keep func([]byte))
	// Malformed replies to a packet that does not parse, known only by
	// its header (FORMERR, R7), counting and logging it like any reply.
	Malformed(dh dns.Header, client netip.Addr, proto string) *dns.Msg
	// Direct is offered every parsed request before Answer. It takes the
	// requests whose replies are not one message made from the request
	// alone: zone transfers (several messages over TCP), NOTIFY and the
	// transfer SOA queries (R12), whose TSIG it verifies against raw, the
	// request's bytes as read. It writes each reply through send (one whole
	// DNS message; over TCP the listener adds the length) and returns
	// true; for every other request it sends nothing and returns false.
	// remote is a *net.UDPAddr or a *net.TCPAddr, as the transport is.
	Direct(req *dns.Msg, raw []byte, local, remote net.Addr, send func([]byte) error) bool
}
