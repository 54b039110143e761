package resolver

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// udpServer answers UDP queries on a socket bound to one address. A fixed
// set of readers resolve each packet inline, as Unbound's threads do,
// instead of starting a goroutine per packet. A reader held up by a slow
// upstream for longer than stuckAfter is replaced by a new one, so slow
// names never hold up the others; a replaced reader ends after its query.
type udpServer struct {
	io   udpIO
	h    *Handler
	keep int // readers that are not stuck
	wg   sync.WaitGroup
	done chan struct{}

	mu      sync.Mutex
	readers map[*udpReader]struct{}
}

type udpReader struct {
	busySince atomic.Int64 // unix nanoseconds; 0 while waiting for a packet
	replaced  atomic.Bool  // a new reader took this one's place
}

const (
	// stuckAfter is how long a query may hold a reader before another
	// reader is started in its place.
	stuckAfter = 5 * time.Millisecond
	// maxUDPReaders bounds the readers, so a flood of queries to a dead
	// upstream cannot start goroutines without end.
	maxUDPReaders = 4096
)

func serveUDP(io udpIO, h *Handler) *udpServer {
	u := &udpServer{io: io, h: h, keep: max(4, 2*runtime.GOMAXPROCS(0)),
		done: make(chan struct{}), readers: map[*udpReader]struct{}{}}
	for range u.keep {
		u.spawn()
	}
	go u.watch()
	return u
}

func (u *udpServer) spawn() {
	r := &udpReader{}
	u.mu.Lock()
	u.readers[r] = struct{}{}
	u.mu.Unlock()
	u.wg.Add(1)
	go u.read(r)
}

// watch replaces stuck readers until the server shuts down.
func (u *udpServer) watch() {
	tick := time.NewTicker(stuckAfter)
	defer tick.Stop()
	for {
		select {
		case <-u.done:
			return
		case now := <-tick.C:
			u.mu.Lock()
			var stuck []*udpReader
			for r := range u.readers {
				if t := r.busySince.Load(); t != 0 && now.UnixNano()-t > int64(stuckAfter) && !r.replaced.Load() {
					stuck = append(stuck, r)
				}
			}
			room := maxUDPReaders - len(u.readers)
			u.mu.Unlock()
			for _, r := range stuck[:min(len(stuck), max(room, 0))] {
				r.replaced.Store(true)
				u.spawn()
			}
		}
	}
}

func (u *udpServer) read(r *udpReader) {
	defer u.wg.Done()
	defer func() {
		u.mu.Lock()
		delete(u.readers, r)
		u.mu.Unlock()
	}()
	in := make([]byte, dns.MaxMsgSize)
	out := make([]byte, dns.MaxMsgSize)
	name := make([]byte, 0, 256)
	for {
		n, from, dst, err := u.io.read(in)
		if errors.Is(err, net.ErrClosed) || u.stopping() {
			return
		}
		if err != nil {
			continue
		}
		r.busySince.Store(time.Now().UnixNano())
		u.answer(in[:n], from, dst, out, name)
		r.busySince.Store(0)
		if r.replaced.Load() {
			return // another reader took this one's place
		}
	}
}

// answer replies to one packet: from a ready-packed answer when one fits,
// else through the Handler; nothing for responses and runts, FORMERR for
// what does not parse (R7).
func (u *udpServer) answer(pkt []byte, from netip.AddrPort, dst netip.Addr, out, name []byte) {
	if len(pkt) < 12 {
		return
	}
	dh := dns.Header{
		Id:      binary.BigEndian.Uint16(pkt),
		Bits:    binary.BigEndian.Uint16(pkt[2:]),
		Qdcount: binary.BigEndian.Uint16(pkt[4:]),
	}
	if MsgAcceptFunc(dh) != dns.MsgAccept {
		return
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
			u.write(out[:n], from, dst)
			return
		}
	}
	req := new(dns.Msg)
	if err := req.Unpack(pkt); err != nil {
		u.send(u.h.unparsed(dh, from.Addr(), "udp", time.Now()), from, dst, out)
		return
	}
	q, set, resp := u.h.answerQuery(req, from.Addr(), "udp", packable)
	if resp == nil {
		return
	}
	if wire := u.send(resp, from, dst, out); wire != nil && packable {
		u.h.storePacked(q, set, &pq, resp, wire)
	}
}

// send packs resp into out and writes it; it returns the packed bytes.
func (u *udpServer) send(resp *dns.Msg, to netip.AddrPort, src netip.Addr, out []byte) []byte {
	wire, err := resp.PackBuffer(out)
	if err != nil {
		u.h.log.Error("packing a response failed", "client", to, "err", err)
		return nil
	}
	u.write(wire, to, src)
	return wire
}

// write sends wire to to, from src when the socket is a wildcard one.
func (u *udpServer) write(wire []byte, to netip.AddrPort, src netip.Addr) {
	if err := u.io.write(wire, to, src); err != nil {
		u.h.log.Debug("writing a response failed", "client", to, "err", err)
	}
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
// the queries they hold, then closes the socket.
func (u *udpServer) shutdown(ctx context.Context) error {
	close(u.done)
	err := u.io.stop()
	done := make(chan struct{})
	go func() { u.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return errors.Join(err, u.io.close())
}
