package listen

import (
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
)

// udpIO writes replies to a UDP socket one at a time (readBatch reads it
// and writes in batches). On a socket bound to a specific address replies
// leave from it; on an IPv4 wildcard socket (0.0.0.0) each reply must
// leave from the address its query was sent to, which IP_PKTINFO tells
// and sets.
type udpIO interface {
	write(b []byte, to netip.AddrPort, src netip.Addr) error
	// stop makes reads fail at once while writes still work, so that
	// queries in flight can be answered before the socket closes.
	stop() error
	close() error
}

func newUDPIO(conn *net.UDPConn) (batchIO, error) {
	ap, _ := netip.ParseAddrPort(conn.LocalAddr().String())
	if !ap.Addr().IsUnspecified() {
		return plainIO{conn, newBatchConn(conn, ap.Addr().Unmap().Is4())}, nil
	}
	pc := ipv4.NewPacketConn(conn)
	if err := pc.SetControlMessage(ipv4.FlagDst, true); err != nil {
		return nil, err
	}
	return pktinfoIO{conn, pc, pktinfoBatch(conn, pc)}, nil
}

// rawWriter is a batchConn that also sends single datagrams its own way
// (udpbatch_linux.go).
type rawWriter interface {
	writeTo(b []byte, to netip.AddrPort) error
}

// plainIO is a socket bound to a specific address; batch is the same
// socket, for readBatch.
type plainIO struct {
	conn  *net.UDPConn
	batch batchConn
}

func (p plainIO) write(b []byte, to netip.AddrPort, _ netip.Addr) error {
	if w, ok := p.batch.(rawWriter); ok {
		return w.writeTo(b, to)
	}
	_, err := p.conn.WriteToUDPAddrPort(b, to)
	return err
}

func (p plainIO) stop() error  { return p.conn.SetReadDeadline(time.Unix(1, 0)) }
func (p plainIO) close() error { return p.conn.Close() }

// pktinfoIO is an IPv4 wildcard socket: pc sets and reads IP_PKTINFO,
// batch is the same socket, for readBatch.
type pktinfoIO struct {
	conn  *net.UDPConn
	pc    *ipv4.PacketConn
	batch batchConn
}

func (p pktinfoIO) write(b []byte, to netip.AddrPort, src netip.Addr) error {
	var cm *ipv4.ControlMessage
	if src.IsValid() {
		cm = &ipv4.ControlMessage{Src: src.AsSlice()}
	}
	_, err := p.pc.WriteTo(b, cm, net.UDPAddrFromAddrPort(to))
	return err
}

func (p pktinfoIO) stop() error  { return p.conn.SetReadDeadline(time.Unix(1, 0)) }
func (p pktinfoIO) close() error { return p.conn.Close() }
