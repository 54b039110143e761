//go:build !windows && (!linux || 386 || s390x)

package listen

import (
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// msgTrunc flags a datagram cut short by the reader's buffer.
const msgTrunc = unix.MSG_TRUNC

// newBatchConn returns conn as a batchConn: recvmmsg and sendmmsg on
// Linux, one message per call on the other Unix systems.
func newBatchConn(conn *net.UDPConn, v4 bool) batchConn {
	if v4 {
		return ipv4.NewPacketConn(conn)
	}
	return ipv6.NewPacketConn(conn)
}

// pktinfoBatch is the batchConn of an IPv4 wildcard socket: pc, whose
// control messages are on.
func pktinfoBatch(_ *net.UDPConn, pc *ipv4.PacketConn) batchConn { return pc }
