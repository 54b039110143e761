package resolver

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// udpServer answers UDP queries on the sockets bound to one address, a
// reader each. Readers answer ready-packed replies inline, as Unbound's
// threads do, without a goroutine per packet; on a socket bound to a
// specific address they read and write in batches (readBatch). Every other query may wait on an
// upstream, so it is answered on a goroutine of its own while the reader
// goes on reading: a slow name never holds up the others, private names
// included. Beyond HandlerOptions.MaxInFlight at once, a query that needs
// the full path is answered inline from what needs no upstream (private
// zones, the cache) or SERVFAIL: readers never wait on an upstream.
type udpServer struct {
	ios  []batchIO // sockets sharing the address (SO_REUSEPORT), a reader each
	h    *Handler
	wg   sync.WaitGroup // readers and the answers they started
	done chan struct{}
	stop sync.Once     // closes done
	slow chan struct{} // a slot per full-path answer running
}

func serveUDP(ios []batchIO, h *Handler) *udpServer {
	u := &udpServer{ios: ios, h: h, done: make(chan struct{}), slow: make(chan struct{}, h.opts.MaxInFlight)}
	for _, io := range ios {
		u.wg.Add(1)
		go u.readBatch(io)
	}
	return u
}

// answer replies to one packet: from a ready-packed answer when one fits,
// which it puts in out and returns its length for the caller to send in
// its batch; else through the Handler on its own goroutine; nothing for
// responses and runts, FORMERR for what does not parse (R7).
func (u *udpServer) answer(io udpIO, pkt []byte, from netip.AddrPort, dst netip.Addr, out, name []byte) (packed int) {
	dh, ok := acceptHeader(pkt)
	if !ok {
		return 0
	}
	defer func() {
		if p := recover(); p != nil {
			u.h.log.Error("panic while reading a query", "panic", p, "client", from)
		}
	}()
	pq, packable := parseQuery(pkt, name[:0])
	packable = packable && !u.h.opts.NoPacked
	if packable {
		if n := u.h.answerPacked(pkt, &pq, from, out); n > 0 {
			return n
		}
	}
	req := new(dns.Msg)
	// Unpacked from a copy: the reader reuses pkt while req may live on.
	if err := req.Unpack(append([]byte(nil), pkt...)); err != nil {
		u.send(io, u.h.unparsed(dh, from.Addr(), "udp", time.Now()), from, dst, out)
		return 0
	}
	select {
	case u.slow <- struct{}{}:
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			defer func() { <-u.slow }()
			u.full(io, req, pq, packable, from, dst, nil)
		}()
	default:
		u.send(io, u.h.overloaded(req, from.Addr(), "udp"), from, dst, out)
	}
	return 0
}

// full answers req through the Handler, and keeps the reply ready-packed
// when it may be sent again. out is the buffer to pack into (nil: a new one).
func (u *udpServer) full(io udpIO, req *dns.Msg, pq parsedQuery, packable bool, from netip.AddrPort, dst netip.Addr, out []byte) {
	defer func() {
		if p := recover(); p != nil {
			u.h.log.Error("panic while answering a query", "panic", p, "client", from)
		}
	}()
	q, set, resp := u.h.answerQuery(req, from.Addr(), "udp", packable)
	if resp == nil {
		return
	}
	if wire := u.send(io, resp, from, dst, out); wire != nil && packable {
		u.h.storePacked(q, set, &pq, resp, wire)
	}
}

// send packs resp into out and writes it; it returns the packed bytes.
func (u *udpServer) send(io udpIO, resp *dns.Msg, to netip.AddrPort, src netip.Addr, out []byte) []byte {
	wire, err := resp.PackBuffer(out)
	if err != nil {
		u.h.log.Error("packing a response failed", "client", to, "err", err)
		return nil
	}
	u.write(io, wire, to, src)
	return wire
}

// write sends wire to to, from src when the socket is a wildcard one.
func (u *udpServer) write(io udpIO, wire []byte, to netip.AddrPort, src netip.Addr) {
	if err := io.write(wire, to, src); err != nil {
		u.h.log.Debug("writing a response failed", "client", to, "err", err)
	}
}

// acceptHeader reads the header of a packet and says whether it is to be
// answered: not a runt, not a response (MsgAcceptFunc).
func acceptHeader(pkt []byte) (dns.Header, bool) {
	if len(pkt) < 12 {
		return dns.Header{}, false
	}
	dh := dns.Header{
		Id:      binary.BigEndian.Uint16(pkt),
		Bits:    binary.BigEndian.Uint16(pkt[2:]),
		Qdcount: binary.BigEndian.Uint16(pkt[4:]),
	}
	return dh, MsgAcceptFunc(dh) == dns.MsgAccept
}

// headerReply answers a packet known only by its header: its ID, opcode
// and RD bit, RA set (R7).
func headerReply(dh dns.Header, rcode int) *dns.Msg {
	const rdBit = 1 << 8
	m := new(dns.Msg)
	m.Id = dh.Id
	m.Response = true
	m.Opcode = int(dh.Bits>>11) & 0xF
	m.RecursionDesired = dh.Bits&rdBit != 0
	m.RecursionAvailable = true
	m.Rcode = rcode
	return m
}

func (u *udpServer) stopping() bool {
	select {
	case <-u.done:
		return true
	default:
		return false
	}
}

// shutdown stops reading, waits (until ctx ends) for the readers to answer
// the queries they hold, then closes the socket. It may be called again,
// with a context already ended to close the socket at once.
func (u *udpServer) shutdown(ctx context.Context) error {
	u.stop.Do(func() { close(u.done) })
	var err error
	for _, io := range u.ios {
		err = errors.Join(err, notClosed(io.stop()))
	}
	done := make(chan struct{})
	go func() { u.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	for _, io := range u.ios {
		err = errors.Join(err, notClosed(io.close()))
	}
	return err
}

// notClosed drops net.ErrClosed: a socket closed by an earlier call.
func notClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
