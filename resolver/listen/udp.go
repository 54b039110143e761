package listen

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/ratelimit"
	"github.com/privdns/privdns/resolver/wire"
	"github.com/privdns/privdns/resolver/workers"
)

// udpServer answers UDP queries on the sockets bound to one address, a
// reader each. Readers answer ready-packed replies inline, as Unbound's
// threads do, without a goroutine per packet; on a socket bound to a
// specific address they read and write in batches (readBatch). Every other query may wait on an
// upstream, so it is answered on a goroutine of its own while the reader
// goes on reading: a slow name never holds up the others, private names
// included. Beyond Options.MaxInFlight at once, a query that needs
// the full path is answered inline from what needs no upstream (private
// zones, the cache) or SERVFAIL: readers never wait on an upstream.
type udpServer struct {
	ios     []batchIO // sockets sharing the address (SO_REUSEPORT), a reader each
	h       Handler
	log     *slog.Logger
	limits  *Limits        // the rate limiter, first to see every request
	wg      sync.WaitGroup // readers and the answers they started
	done    chan struct{}
	stop    sync.Once     // closes done
	slow    chan struct{} // a slot per full-path answer running
	answers *workers.Pool // runs the full-path answers on goroutines kept warm
}

func serveUDP(ios []batchIO, h Handler, opts Options) *udpServer {
	u := &udpServer{ios: ios, h: h, log: opts.Logger, limits: opts.Limits, done: make(chan struct{}), slow: make(chan struct{}, opts.MaxInFlight),
		answers: workers.New(0)}
	for _, io := range ios {
		u.wg.Add(1)
		go u.readBatch(io)
	}
	return u
}

// answer replies to one packet: from a ready-packed answer when one fits,
// which it puts in out and returns its length for the caller to send in
// its batch; else through the Handler on its own goroutine; nothing for
// responses and runts, FORMERR for what does not parse (R7). A request
// the rate limiter holds back is dropped, or slipped: answered TC at once
// (R11), before anything else, ready-packed replies included.
//
// name and pq are the reader's: the question's name and the parsed
// question, reused for every packet it reads.
func (u *udpServer) answer(io udpIO, pkt []byte, from netip.AddrPort, dst netip.Addr, out, name []byte, pq *wire.Question) (packed int) {
	dh, ok := wire.Header(pkt)
	if !ok {
		return 0
	}
	switch u.limits.rateLimit(from.Addr()) {
	case ratelimit.Drop:
		return 0
	case ratelimit.Slip:
		return wire.TruncatedReply(pkt, out)
	}
	defer func() {
		if p := recover(); p != nil {
			u.log.Error("panic while reading a query", "panic", p, "client", from)
		}
	}()
	var packable bool
	*pq, packable = wire.ParseQuestion(pkt, name)
	if packable {
		if n := u.h.Packed(pkt, pq, from, out); n > 0 {
			return n
		}
	}
	// One allocation for the request and one for its bytes and name, as
	// the reader reuses pkt, pq and name while the request lives on.
	j := &fullJob{}
	buf := make([]byte, len(pkt)+len(pq.Name))
	raw := buf[:len(pkt):len(pkt)]
	copy(raw, pkt)
	req := &j.req
	if err := req.Unpack(raw); err != nil {
		u.malformed(io, dh, from, dst, out)
		return 0
	}
	select {
	case u.slow <- struct{}{}:
		var q *wire.Question
		if packable {
			j.q = *pq
			j.q.Name = buf[len(pkt):]
			copy(j.q.Name, pq.Name)
			q = &j.q
		}
		u.wg.Add(1)
		u.answers.Go(func() {
			defer u.wg.Done()
			defer func() { <-u.slow }()
			u.full(io, req, raw, q, from, dst)
		})
	default:
		if u.direct(io, req, raw, from, dst) {
			return 0
		}
		resp, _ := u.h.Answer(req, from.Addr(), "udp", true, nil)
		u.send(io, resp, from, dst, out)
	}
	return 0
}

// fullJob is what a full-path answer keeps of the packet it answers.
type fullJob struct {
	req dns.Msg
	q   wire.Question
}

// full answers req through the Handler, and hands the reply back to be
// kept ready-packed when it may be sent again.
func (u *udpServer) full(io udpIO, req *dns.Msg, raw []byte, q *wire.Question, from netip.AddrPort, dst netip.Addr) {
	defer func() {
		if p := recover(); p != nil {
			u.log.Error("panic while answering a query", "panic", p, "client", from)
		}
	}()
	if u.direct(io, req, raw, from, dst) {
		return
	}
	resp, keep := u.h.Answer(req, from.Addr(), "udp", false, q)
	if wire := u.send(io, resp, from, dst, nil); wire != nil && keep != nil {
		keep(wire)
	}
}

// direct offers req to the Handler's Direct, replies leaving from dst as
// Answer's do.
func (u *udpServer) direct(io udpIO, req *dns.Msg, raw []byte, from netip.AddrPort, dst netip.Addr) bool {
	if !wire.MaybeDirect(req) {
		return false // what Direct declines, without building its arguments
	}
	local := &net.UDPAddr{IP: dst.AsSlice()}
	send := func(b []byte) error { return io.write(b, from, dst) }
	return u.h.Direct(req, raw, local, net.UDPAddrFromAddrPort(from), send)
}

// malformed answers a packet that does not parse (or is too large to
// read whole) with the Handler's FORMERR.
func (u *udpServer) malformed(io udpIO, dh dns.Header, from netip.AddrPort, dst netip.Addr, out []byte) {
	u.send(io, u.h.Malformed(dh, from.Addr(), "udp"), from, dst, out)
}

// send packs resp (nil: nothing to send) into out and writes it; it
// returns the packed bytes.
func (u *udpServer) send(io udpIO, resp *dns.Msg, to netip.AddrPort, src netip.Addr, out []byte) []byte {
	if resp == nil {
		return nil
	}
	b, err := resp.PackBuffer(out)
	if err != nil {
		u.log.Error("packing a response failed", "client", to, "err", err)
		return nil
	}
	u.write(io, b, to, src)
	return b
}

// write sends wire to to, from src when the socket is a wildcard one.
func (u *udpServer) write(io udpIO, wire []byte, to netip.AddrPort, src netip.Addr) {
	if err := io.write(wire, to, src); err != nil {
		u.log.Debug("writing a response failed", "client", to, "err", err)
	}
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
	u.answers.Stop() // the idle goroutines end; busy ones after their answer
	return err
}

// notClosed drops net.ErrClosed: a socket closed by an earlier call.
func notClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
