package resolver

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// batchConn reads and writes many datagrams per system call: recvmmsg and
// sendmmsg on Linux, one at a time elsewhere. ipv4.PacketConn and
// ipv6.PacketConn are both one (their Message types are the same).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

const (
	// batchSize is how many datagrams one system call reads or writes at
	// most. Under load a batch of queries costs one read and its
	// ready-packed replies one write; a reader that keeps up gets one
	// query per read, as before.
	batchSize = 32
	// batchQuery is the largest query a batch reader takes, as over TCP;
	// a larger one is answered FORMERR.
	batchQuery = maxTCPQuery
	// batchReply is the largest ready-packed reply sent from a batch; a
	// larger one is answered through the Handler.
	batchReply = 16 << 10
)

// readBatch serves p with one reader: it reads up to batchSize queries at
// once, answers them in order (ready-packed replies into the batch, the
// rest as read does) and sends the batch's replies at once.
func (u *udpServer) readBatch(p plainIO) {
	defer u.wg.Done()
	in := make([]ipv4.Message, batchSize)
	out := make([]ipv4.Message, batchSize)
	replies := make([][]byte, batchSize)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, batchQuery)}
		out[i].Buffers = [][]byte{nil}
		replies[i] = make([]byte, batchReply)
	}
	name := make([]byte, 0, 256)
	for {
		n, err := p.batch.ReadBatch(in, 0)
		if errors.Is(err, net.ErrClosed) || u.stopping() {
			return
		}
		if err != nil {
			continue
		}
		k := 0
		for i := range n {
			m := &in[i]
			ua, _ := m.Addr.(*net.UDPAddr)
			if ua == nil {
				continue
			}
			from := ua.AddrPort()
			pkt := m.Buffers[0][:m.N]
			if m.Flags&unix.MSG_TRUNC != 0 {
				u.tooLarge(p, pkt, from, netip.Addr{}, replies[k])
				continue
			}
			if r := u.answer(p, pkt, from, netip.Addr{}, replies[k], name); r > 0 {
				out[k].Buffers[0] = replies[k][:r]
				out[k].Addr = m.Addr
				k++
			}
		}
		for sent := 0; sent < k; {
			w, err := p.batch.WriteBatch(out[sent:k], 0)
			sent += max(w, 0)
			if err != nil { // the reply at sent failed; the rest may go
				u.h.log.Debug("writing a response failed", "client", out[sent].Addr, "err", err)
				sent++
			}
		}
	}
}

// tooLarge answers FORMERR to a query cut short by the reader's buffer.
func (u *udpServer) tooLarge(io udpIO, pkt []byte, from netip.AddrPort, dst netip.Addr, out []byte) {
	if dh, ok := acceptHeader(pkt); ok {
		u.send(io, u.h.unparsed(dh, from.Addr(), "udp", time.Now()), from, dst, out)
	}
}
