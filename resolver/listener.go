package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
)

// Listener serves one address over UDP and TCP with the checks of R7
// (MsgAcceptFunc) and room for EDNS-sized queries.
type Listener struct {
	Addr string // the bound address (port resolved when ":0" was asked)
	udp  *dns.Server
	tcp  *dns.Server
}

// Listen binds addr for UDP and TCP (both or neither) and starts serving h.
func Listen(addr string, h dns.Handler) (*Listener, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", addr, err)
	}
	tcpAddr := addr
	if _, port, _ := net.SplitHostPort(addr); port == "0" {
		tcpAddr = pc.LocalAddr().String()
	}
	ln, err := net.Listen("tcp", tcpAddr)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("listen tcp %s: %w", addr, err)
	}
	l := &Listener{Addr: pc.LocalAddr().String()}
	l.udp = &dns.Server{PacketConn: pc, Handler: h, MsgAcceptFunc: MsgAcceptFunc, UDPSize: dns.MaxMsgSize}
	l.tcp = &dns.Server{Listener: ln, Handler: h, MsgAcceptFunc: MsgAcceptFunc,
		ReadTimeout: 5 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }}
	for _, s := range []*dns.Server{l.udp, l.tcp} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe() //nolint:errcheck // returns when shut down
		<-started
	}
	return l, nil
}

// Shutdown stops accepting queries and waits (until ctx ends) for the ones
// in flight.
func (l *Listener) Shutdown(ctx context.Context) error {
	return errors.Join(l.udp.ShutdownContext(ctx), l.tcp.ShutdownContext(ctx))
}
