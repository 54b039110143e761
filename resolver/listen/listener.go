package listen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"syscall"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/ratelimit"
	"github.com/privdns/privdns/resolver/wire"
)

// Listener serves one address over UDP and TCP with the checks of R7
// (wire.Accept) and room for EDNS-sized queries.
type Listener struct {
	Addr string       // the bound address (port resolved when ":0" was asked)
	udp  *udpServer   // a specific address: inline readers
	udpW *dns.Server  // an IPv6 wildcard address: miekg's server, which answers from the address asked
	conn *net.UDPConn // udpW's socket
	tcp  *tcpServer
}

// Listen binds addr for UDP and TCP (both or neither) and starts serving h.
func Listen(addr string, h Handler, opts Options) (*Listener, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	opts = opts.withDefaults()
	for attempt := 0; ; attempt++ {
		l, err := listen(ua, h, opts)
		// For port 0 the port the kernel picked may be taken before
		// spread binds it again: another port is tried then.
		if err == nil || ua.Port != 0 || attempt == 10 || !errors.Is(err, syscall.EADDRINUSE) {
			return l, err
		}
	}
}

func listen(ua *net.UDPAddr, h Handler, opts Options) (*Listener, error) {
	conn, ln, err := bindBoth(ua)
	if err != nil {
		return nil, err
	}
	l := &Listener{Addr: conn.LocalAddr().String()}
	if _, ioErr := newUDPIO(conn); isIPv6Wildcard(ua) || ioErr != nil {
		// Replies must leave from the address each query was sent to;
		// on dual-stack and IPv6 wildcard sockets (and where IP_PKTINFO
		// cannot be had) miekg's server does that (on Linux and the
		// BSDs; on Windows it cannot, and a wildcard listener on a host
		// of several addresses may answer from another one).
		if err := l.serveMiekg(conn, h, opts); err != nil {
			conn.Close()
			ln.Close()
			return nil, fmt.Errorf("listen udp %s: %w", l.Addr, err)
		}
		l.tcp = serveTCP(ln, h, opts)
		return l, nil
	}
	ios, err := spread(conn)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen udp %s: %w", l.Addr, err)
	}
	l.udp = serveUDP(ios, h, opts)
	l.tcp = serveTCP(ln, h, opts)
	return l, nil
}

// serveMiekg serves UDP on conn with miekg's server, a goroutine per
// query, held to MaxInFlight. It returns once the server runs, or why it
// could not start.
func (l *Listener) serveMiekg(conn *net.UDPConn, h Handler, opts Options) error {
	l.conn = conn
	capped := &cappedHandler{h: h, log: opts.Logger, limits: opts.Limits, slots: make(chan struct{}, opts.MaxInFlight)}
	l.udpW = &dns.Server{PacketConn: conn, Handler: capped, MsgAcceptFunc: wire.Accept, UDPSize: dns.MaxMsgSize,
		DecorateWriter: func(w dns.Writer) dns.Writer { return formerrWriter{w, h} }}
	started := make(chan struct{})
	l.udpW.NotifyStartedFunc = func() { close(started) }
	failed := make(chan error, 1) // also what it returns when shut down
	go func() { failed <- l.udpW.ActivateAndServe() }()
	select {
	case <-started:
		return nil
	case err := <-failed:
		return err
	}
}

// spread makes conn, a socket bound without SO_REUSEPORT (which proves
// that no other socket held the address), one of a group of one
// SO_REUSEPORT socket per two CPUs on the same address: each has a reader
// of its own, so reads and writes run in parallel instead of queueing on
// one socket's locks, as Unbound's so-reuseport does. One reader per CPU
// measured slower: the kernel's work of delivering each reply, and the
// clients, need the other half. conn is never closed on the way, so the
// address is never free: what is guaranteed is that when conn was bound no
// other socket held it; a process of the same user that later binds it
// with SO_REUSEPORT itself can still join the group (as with Unbound).
// With fewer than four CPUs, or where SO_REUSEPORT is not used, conn is
// kept alone. On error every socket is closed.
func spread(conn *net.UDPConn) ([]batchIO, error) {
	first, err := newUDPIO(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	n := runtime.GOMAXPROCS(0) / 2
	if n < 2 || !reusePortWorks {
		return []batchIO{first}, nil
	}
	ios := []batchIO{first}
	fail := func(err error) ([]batchIO, error) {
		for _, io := range ios {
			io.close()
		}
		return nil, err
	}
	if err := shareAddress(conn); err != nil {
		return fail(err)
	}
	ua := conn.LocalAddr().(*net.UDPAddr)
	network := "udp6"
	if ua.IP.To4() != nil {
		network = "udp4"
	}
	for len(ios) < n {
		c, err := listenReusePort(network, ua)
		if err != nil {
			return fail(err)
		}
		_ = c.SetReadBuffer(udpReadBuffer)
		io, err := newUDPIO(c)
		if err != nil {
			c.Close()
			return fail(err)
		}
		ios = append(ios, io)
	}
	return ios, nil
}

// Shutdown stops accepting queries, over UDP and TCP at once, and waits
// (until ctx ends) for the ones in flight.
func (l *Listener) Shutdown(ctx context.Context) error {
	udp := make(chan error, 1)
	go func() {
		if l.udp != nil {
			udp <- l.udp.shutdown(ctx)
			return
		}
		err := l.udpW.ShutdownContext(ctx)
		if ctx.Err() != nil {
			// Called again to force: miekg's server closes its socket only
			// when the first call's wait ends, so close it here.
			l.conn.Close()
			err = ctx.Err()
		}
		udp <- err
	}()
	err := l.tcp.shutdown(ctx)
	return errors.Join(err, <-udp)
}

// udpReadBuffer is the receive buffer asked for each UDP socket.
const udpReadBuffer = 4 << 20

// bindBoth binds UDP and TCP on one port. For port 0 the UDP port the
// kernel picks may be taken for TCP; another is tried then.
func bindBoth(ua *net.UDPAddr) (*net.UDPConn, net.Listener, error) {
	for attempt := 0; ; attempt++ {
		network := "udp"
		if ua.IP != nil && ua.IP.To4() != nil {
			network = "udp4" // 0.0.0.0 binds IPv4 only, not a dual-stack socket
		}
		conn, err := net.ListenUDP(network, ua)
		if err != nil {
			return nil, nil, fmt.Errorf("listen udp %s: %w", ua, err)
		}
		// Room for a burst of queries while readers are busy; the kernel
		// caps it at net.core.rmem_max (often 208 KB unless raised).
		_ = conn.SetReadBuffer(udpReadBuffer)
		ln, err := net.Listen("tcp", conn.LocalAddr().String())
		if err == nil {
			return conn, ln, nil
		}
		conn.Close()
		if ua.Port != 0 || attempt == 10 {
			return nil, nil, fmt.Errorf("listen tcp %s: %w", conn.LocalAddr(), err)
		}
	}
}

// isIPv6Wildcard: ":port" (dual stack) or "[::]:port".
func isIPv6Wildcard(ua *net.UDPAddr) bool {
	return ua.IP == nil || (ua.IP.IsUnspecified() && ua.IP.To4() == nil)
}

// formerrWriter gives the FORMERR that miekg's server writes itself, for a
// packet that does not parse, the R7 shape of every other reply (RA set),
// and has the Handler count it as it counts its own.
type formerrWriter struct {
	dns.Writer
	h Handler
}

func (w formerrWriter) Write(b []byte) (int, error) {
	const qr, ra = 0x80, 0x80
	if len(b) >= 4 && b[2]&qr != 0 && b[3]&0x0F == dns.RcodeFormatError && b[3]&ra == 0 {
		var client netip.Addr
		if rw, ok := w.Writer.(dns.ResponseWriter); ok {
			client = remoteAddr(rw)
		}
		if b[2]>>3&0xF == dns.OpcodeQuery { // RA is for QUERY only (R11)
			b[3] |= ra
		}
		w.h.Malformed(dns.Header{}, client, "udp") // counted only: b is the reply
	}
	return w.Writer.Write(b)
}

// cappedHandler serves miekg's UDP server (a goroutine per packet) through
// the Handler, held to MaxInFlight: beyond it a query is answered without
// waiting on an upstream, as on the other listeners.
type cappedHandler struct {
	h      Handler
	log    *slog.Logger
	limits *Limits
	slots  chan struct{}
}

func (c *cappedHandler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	switch c.limits.rateLimit(remoteAddr(w)) {
	case ratelimit.Drop:
		return
	case ratelimit.Slip:
		m := new(dns.Msg)
		m.SetReply(r)
		m.Truncated = true
		m.RecursionAvailable = r.Opcode == dns.OpcodeQuery
		w.WriteMsg(m)
		return
	}
	busy := false
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	default:
		busy = true
	}
	client := remoteAddr(w)
	if resp, _ := c.h.Answer(r, client, "udp", busy, nil); resp != nil {
		if err := w.WriteMsg(resp); err != nil {
			c.log.Debug("writing a response failed", "client", client, "err", err)
		}
	}
}

func remoteAddr(w dns.ResponseWriter) netip.Addr {
	if ap, err := netip.ParseAddrPort(w.RemoteAddr().String()); err == nil {
		return ap.Addr()
	}
	return netip.Addr{}
}
