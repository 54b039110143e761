//go:build !linux || 386 || s390x

package upstream

import (
	"fmt"
	"net"
)

// dialUDP opens a connected UDP socket to addr.
func dialUDP(addr *net.UDPAddr) (udpConn, error) { return net.DialUDP("udp", nil, addr) }

// sendThenRead writes msg and reads the first datagram back into buf.
func sendThenRead(conn udpConn, msg, buf []byte) (int, error) {
	if _, err := conn.Write(msg); err != nil {
		return 0, fmt.Errorf("udp write: %w", err)
	}
	return readDatagram(conn, buf)
}
