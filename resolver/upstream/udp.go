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
	buf := getBuf()
	defer putBuf(buf)
	n, err := sendThenRead(conn, q.udp(), *buf)
	for {
		if err != nil {
			return nil, err
		}
		if m := parseReply((*buf)[:n], id, q.q); m != nil {
			return m, nil
		}
		n, err = readDatagram(conn, *buf)
	}
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
	if ctx.Done() == nil {
		return func() bool { return true } // never canceled
	}
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
}
