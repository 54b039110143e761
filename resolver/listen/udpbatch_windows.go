package listen

import (
	"errors"
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/windows"
)

// msgTrunc flags a datagram cut short by the reader's buffer, which
// Windows reports as WSAEMSGSIZE rather than a flag.
const msgTrunc = 1 << 30

// newBatchConn returns conn as a batchConn that moves one message per
// call: golang.org/x/net has no batch I/O on Windows.
func newBatchConn(conn *net.UDPConn, _ bool) batchConn { return singleConn{conn} }

type singleConn struct{ c *net.UDPConn }

func (s singleConn) ReadBatch(ms []ipv4.Message, _ int) (int, error) {
	n, from, err := s.c.ReadFromUDP(ms[0].Buffers[0])
	flags := 0
	if errors.Is(err, windows.WSAEMSGSIZE) {
		if from == nil {
			return 0, nil // nobody to answer; read on at once
		}
		flags, err = msgTrunc, nil
	}
	if err != nil {
		return 0, err
	}
	ms[0].N, ms[0].NN, ms[0].Flags, ms[0].Addr = n, 0, flags, from
	return 1, nil
}

func (s singleConn) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	for i, m := range ms {
		if _, err := s.c.WriteTo(m.Buffers[0], m.Addr); err != nil {
			return i, err
		}
	}
	return len(ms), nil
}

// pktinfoBatch is the batchConn of an IPv4 wildcard socket: pc, whose
// control messages are on.
func pktinfoBatch(_ *net.UDPConn, pc *ipv4.PacketConn) batchConn { return pc }
