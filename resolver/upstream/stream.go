package upstream

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/miekg/dns"
)

// exchangeTCP sends the query over a new TCP connection; it serves the retry
// of a truncated UDP reply.
func exchangeTCP(ctx context.Context, addr string, q *query, deadline time.Time) (*dns.Msg, error) {
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tcp dial: %w", err)
	}
	defer conn.Close()
	return exchangeStream(ctx, conn, q, deadline)
}

// exchangeStream writes the query with RFC 7766 two-byte length framing and
// reads framed replies until one matches. With one query at a time on a
// connection a mismatch is a stray, so it is skipped like on UDP.
func exchangeStream(ctx context.Context, conn net.Conn, q *query, deadline time.Time) (*dns.Msg, error) {
	stop := interruptOnCancel(ctx, conn, deadline)
	defer stop()
	id := q.stamp()
	if _, err := conn.Write(q.frame); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	buf := getBuf()
	defer putBuf(buf)
	for {
		if _, err := io.ReadFull(conn, (*buf)[:2]); err != nil {
			return nil, fmt.Errorf("read length: %w", err)
		}
		n := int(binary.BigEndian.Uint16(*buf))
		if _, err := io.ReadFull(conn, (*buf)[:n]); err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
		if m := parseReply((*buf)[:n], id, q.q); m != nil {
			return m, nil
		}
	}
}
