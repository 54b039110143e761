package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/miekg/dns"
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
	if _, err := conn.Write(q.udp()); err != nil {
		return nil, fmt.Errorf("udp write: %w", err)
	}
	buf := getBuf()
	defer putBuf(buf)
	for {
		n, err := conn.Read(*buf)
		if errors.Is(err, io.EOF) {
			continue // an empty datagram, as an os.File reads it
		}
		if err != nil {
			return nil, fmt.Errorf("udp read: %w", err)
		}
		if m := parseReply((*buf)[:n], id, q.q); m != nil {
			return m, nil
		}
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
	if ctx.Done() == nil {
		return func() bool { return true } // never canceled
	}
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
}
