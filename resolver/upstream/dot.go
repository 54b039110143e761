package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/miekg/dns"
)

const (
	// maxIdleTLS bounds the idle connections kept per DNS-over-TLS target;
	// more concurrent queries open more connections, closed after use.
	maxIdleTLS = 4
	// idleTLSTimeout drops idle connections before typical servers do
	// (RFC 7766 suggests servers wait at least a few seconds).
	idleTLSTimeout = 10 * time.Second
)

// tlsPool keeps idle DNS-over-TLS connections to one target (RFC 7858), so
// most queries skip the TCP and TLS handshakes.
type tlsPool struct {
	addr string
	cfg  *tls.Config
	now  func() time.Time

	mu     sync.Mutex
	idle   []idleConn // oldest first
	closed bool
}

type idleConn struct {
	conn  net.Conn
	since time.Time
}

func newTLSPool(addr string, cfg *tls.Config, now func() time.Time) *tlsPool {
	return &tlsPool{addr: addr, cfg: cfg, now: now}
}

// exchange sends the query on an idle connection or a new one. A reused
// connection that fails (the server may have closed it) is discarded and the
// query is retried once on a new connection.
func (p *tlsPool) exchange(ctx context.Context, q *query, deadline time.Time) (*dns.Msg, error) {
	conn := p.get()
	reused := conn != nil
	if !reused {
		var err error
		if conn, err = p.dial(ctx, deadline); err != nil {
			return nil, err
		}
	}
	m, err := exchangeStream(ctx, conn, q, deadline)
	if err != nil && reused && ctx.Err() == nil && !isTimeout(err) {
		conn.Close()
		if conn, err = p.dial(ctx, deadline); err != nil {
			return nil, err
		}
		m, err = exchangeStream(ctx, conn, q, deadline)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("tls: %w", err)
	}
	if ctx.Err() != nil {
		conn.Close() // a cancellation may have poisoned its deadline
	} else {
		p.put(conn)
	}
	return m, nil
}

func (p *tlsPool) dial(ctx context.Context, deadline time.Time) (net.Conn, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Deadline: deadline}, Config: p.cfg}
	conn, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("tls dial: %w", err)
	}
	return conn, nil
}

// get returns the most recently used idle connection that has not been idle
// too long, closing the stale ones.
func (p *tlsPool) get() net.Conn {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle) > 0 {
		last := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(last.since) < idleTLSTimeout {
			return last.conn
		}
		last.conn.Close()
	}
	return nil
}

// put keeps a healthy connection for reuse, or closes it when the pool is
// full or closed.
func (p *tlsPool) put(conn net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		conn.Close()
		return
	}
	if len(p.idle) == maxIdleTLS {
		p.idle[0].conn.Close()
		p.idle = append(p.idle[:0], p.idle[1:]...)
	}
	p.idle = append(p.idle, idleConn{conn: conn, since: p.now()})
}

// close closes the idle connections; connections in use are closed when
// their query ends.
func (p *tlsPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for _, c := range p.idle {
		errs = append(errs, c.conn.Close())
	}
	p.idle = nil
	return errors.Join(errs...)
}

// isTimeout reports whether err is a deadline expiry rather than a broken
// connection.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
