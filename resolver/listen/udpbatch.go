package listen

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/privdns/privdns/resolver/wire"
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
	batchReply = 4 << 10
)

// batchIO is a socket that readBatch can serve: batch is the socket
// itself, and pktinfo says that it is an IPv4 wildcard socket, whose
// queries carry the address they were sent to (IP_PKTINFO) and whose
// replies must leave from it.
type batchIO interface {
	udpIO
	batchConn() (c batchConn, pktinfo bool)
}

func (p plainIO) batchConn() (batchConn, bool)   { return p.batch, false }
func (p pktinfoIO) batchConn() (batchConn, bool) { return p.batch, true }

// readBatch serves io with one reader: it reads up to batchSize queries
// at once, answers them in order (ready-packed replies into the batch,
// the others as answer says) and sends the batch's replies at once.
func (u *udpServer) readBatch(io batchIO) {
	defer u.wg.Done()
	c, pktinfo := io.batchConn()
	if r, ok := c.(interface{ release() }); ok {
		defer r.release()
	}
	in := make([]ipv4.Message, batchSize)
	out := make([]ipv4.Message, batchSize)
	replies := make([][]byte, batchSize)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, batchQuery)}
		out[i].Buffers = [][]byte{nil}
		replies[i] = make([]byte, batchReply)
		if pktinfo {
			in[i].OOB = ipv4.NewControlMessage(ipv4.FlagDst)
		}
	}
	srcs := sourceMessages{}
	name := make([]byte, 0, 256)
	var pq wire.Question
	var cm ipv4.ControlMessage
	for {
		n, err := c.ReadBatch(in, 0)
		if errors.Is(err, net.ErrClosed) || u.stopping() {
			return
		}
		if err != nil {
			// A socket error is rare and passing; one that is not
			// must not spin the reader.
			u.log.Debug("reading queries failed", "err", err)
			time.Sleep(time.Millisecond)
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
			var dst netip.Addr
			if pktinfo {
				if cm.Parse(m.OOB[:m.NN]) == nil {
					dst, _ = netip.AddrFromSlice(cm.Dst.To4())
				}
			}
			pkt := m.Buffers[0][:m.N]
			if msgTrunc != 0 && m.Flags&msgTrunc != 0 {
				u.tooLarge(io, pkt, from, dst, replies[k])
				continue
			}
			if r := u.answer(io, pkt, from, dst, replies[k], name, &pq); r > 0 {
				out[k].Buffers[0] = replies[k][:r]
				out[k].Addr = m.Addr
				if pktinfo {
					out[k].OOB = srcs.get(dst)
				}
				k++
			}
		}
		writeAll(c, out[:k], u.log)
	}
}

// writeAll sends every message of ms, going past one that fails.
func writeAll(c batchConn, ms []ipv4.Message, log *slog.Logger) {
	for len(ms) > 0 {
		w, err := c.WriteBatch(ms, 0)
		w = max(w, 0)
		if err == nil && w == 0 {
			return // cannot happen; never loop on it
		}
		ms = ms[w:]
		if err != nil && len(ms) > 0 { // ms[0] failed; the rest may go
			log.Debug("writing a response failed", "client", ms[0].Addr, "err", err)
			ms = ms[1:]
		}
	}
}

// tooLarge answers FORMERR to a query cut short by the reader's buffer.
func (u *udpServer) tooLarge(io udpIO, pkt []byte, from netip.AddrPort, dst netip.Addr, out []byte) {
	if dh, ok := wire.Header(pkt); ok {
		u.malformed(io, dh, from, dst, out)
	}
}

// sourceMessages keeps, per local address, the control message that makes
// a reply leave from it: a wildcard socket answers for a few addresses.
type sourceMessages map[netip.Addr][]byte

func (s sourceMessages) get(src netip.Addr) []byte {
	if !src.IsValid() {
		return nil
	}
	if oob, ok := s[src]; ok {
		return oob
	}
	if len(s) >= 64 {
		clear(s)
	}
	oob := (&ipv4.ControlMessage{Src: src.AsSlice()}).Marshal()
	s[src] = oob
	return oob
}
