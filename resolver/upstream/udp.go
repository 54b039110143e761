package upstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// exchangeUDP sends the query from a fresh connected socket, so the kernel
// picks a random source port (RFC 5452) and drops datagrams from any other
// address, then reads until a matching reply arrives or the deadline
// passes. Replies that do not match are skipped: one bad packet must not
// end the wait.
func exchangeUDP(ctx context.Context, addr *net.UDPAddr, q *query, deadline time.Time) (*dns.Msg, error) {
	conn, err := dialUDP(addr)
	if err != nil {
		return nil, fmt.Errorf("udp dial: %w", err)
	}
	defer conn.Close()
	stop := interruptOnCancel(ctx, conn, deadline)
	defer stop()

	id := q.stamp()
	buf := replyBuf(q)
	defer putAny(buf)
	n, err := sendThenRead(conn, q.udp(), *buf)
	for {
		if err != nil {
			return nil, err
		}
		if n == smallBufSize && len(*buf) == smallBufSize {
			// Cut by the kernel: larger than the query allowed. What
			// came is no answer, but the whole reply may come over TCP.
			if m := cutReply((*buf)[:n], id); m != nil {
				return m, nil
			}
		} else if m := parseReply((*buf)[:n], id, q.q); m != nil {
			return m, nil
		}
		n, err = readDatagram(conn, *buf)
	}
}

// replyBuf is a buffer for UDP replies to q: a small one when q allows no
// more than smallMsg bytes.
func replyBuf(q *query) *[]byte {
	if q.udpSize <= smallMsg {
		return getSmallBuf()
	}
	return getBuf()
}

// cutReply stands for a datagram cut short because it was larger than the
// query allowed (RFC 6891 §6.2.5 lets a responder send no more): if its
// header is a response with id, it is taken as truncated, so the query is
// asked again over TCP (exchangeOnce). Anything else is ignored (nil), as
// parseReply ignores what does not match.
func cutReply(p []byte, id uint16) *dns.Msg {
	var h dns.Msg
	if len(p) < 12 || binary.BigEndian.Uint16(p) != id || p[2]&0x80 == 0 {
		return nil
	}
	h.Id, h.Response, h.Truncated = id, true, true
	return &h
}

// readDatagram reads the next datagram into buf, skipping empty ones (an
// os.File reads those as io.EOF).
func readDatagram(conn udpConn, buf []byte) (int, error) {
	for {
		n, err := conn.Read(buf)
		switch {
		case errors.Is(err, io.EOF) || (err == nil && n == 0):
			continue
		case err != nil:
			return 0, fmt.Errorf("udp read: %w", err)
		}
		return n, nil
	}
}

// udpConn is what exchangeUDP needs of a connected UDP socket.
type udpConn interface {
	io.ReadWriteCloser
	SetDeadline(time.Time) error
}

// interruptOnCancel sets the deadline on conn and makes a cancellation of ctx
// end any blocked read or write at once. The returned stop must be called.
func interruptOnCancel(ctx context.Context, conn interface{ SetDeadline(time.Time) error }, deadline time.Time) (stop func() bool) {
	_ = conn.SetDeadline(deadline)
	if report.AtDeadline(ctx) {
		// Never canceled before its deadline, which deadline is not past
		// (the group caps it): the socket's deadline is all it takes, and
		// a watcher would arm ctx's timer, a cost per cold miss.
		return func() bool { return true }
	}
	if ctx.Done() == nil {
		return func() bool { return true } // never canceled
	}
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
}
