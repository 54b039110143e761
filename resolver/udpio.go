package resolver

import (
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// udpIO reads queries from a UDP socket and writes replies to it. On a
// socket bound to a specific address replies leave from it; on an IPv4
// wildcard socket (0.0.0.0) each reply must leave from the address its
// query was sent to, which IP_PKTINFO tells and sets.
type udpIO interface {
	read(b []byte) (n int, from netip.AddrPort, dst netip.Addr, err error)
	write(b []byte, to netip.AddrPort, src netip.Addr) error
	// stop makes reads fail at once while writes still work, so that
	// queries in flight can be answered before the socket closes.
	stop() error
	close() error
}

func newUDPIO(conn *net.UDPConn) (udpIO, error) {
	ap, _ := netip.ParseAddrPort(conn.LocalAddr().String())
	if !ap.Addr().IsUnspecified() {
		if ap.Addr().Unmap().Is4() {
			return plainIO{conn, ipv4.NewPacketConn(conn)}, nil
		}
		return plainIO{conn, ipv6.NewPacketConn(conn)}, nil
	}
	pc := ipv4.NewPacketConn(conn)
	if err := pc.SetControlMessage(ipv4.FlagDst, true); err != nil {
		return nil, err
	}
	return pktinfoIO{conn, pc}, nil
}

// plainIO is a socket bound to a specific address; batch is the same
// socket, for readBatch.
type plainIO struct {
	conn  *net.UDPConn
	batch batchConn
}

func (p plainIO) read(b []byte) (int, netip.AddrPort, netip.Addr, error) {
	n, from, err := p.conn.ReadFromUDPAddrPort(b)
	return n, from, netip.Addr{}, err
}

func (p plainIO) write(b []byte, to netip.AddrPort, _ netip.Addr) error {
	_, err := p.conn.WriteToUDPAddrPort(b, to)
	return err
}

func (p plainIO) stop() error  { return p.conn.SetReadDeadline(time.Unix(1, 0)) }
func (p plainIO) close() error { return p.conn.Close() }

type pktinfoIO struct {
	conn *net.UDPConn
	pc   *ipv4.PacketConn
}

func (p pktinfoIO) read(b []byte) (int, netip.AddrPort, netip.Addr, error) {
	n, cm, src, err := p.pc.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, netip.Addr{}, err
	}
	ua, _ := src.(*net.UDPAddr)
	if ua == nil {
		return 0, netip.AddrPort{}, netip.Addr{}, net.InvalidAddrError("not a UDP address")
	}
	var dst netip.Addr
	if cm != nil {
		dst, _ = netip.AddrFromSlice(cm.Dst.To4())
	}
	return n, ua.AddrPort(), dst, nil
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
