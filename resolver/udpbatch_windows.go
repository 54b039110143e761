package resolver

import (
	"net"

	"golang.org/x/net/ipv4"
)

// msgTrunc: Windows reports no truncation flag here; a cut datagram
// fails to parse instead.
const msgTrunc = 0

// newBatchConn returns conn as a batchConn that moves one message per
// call: golang.org/x/net has no batch I/O on Windows.
func newBatchConn(conn *net.UDPConn, _ bool) batchConn { return singleConn{conn} }

type singleConn struct{ c *net.UDPConn }

func (s singleConn) ReadBatch(ms []ipv4.Message, _ int) (int, error) {
	n, from, err := s.c.ReadFromUDP(ms[0].Buffers[0])
	if err != nil {
		return 0, err
	}
	ms[0].N, ms[0].NN, ms[0].Flags, ms[0].Addr = n, 0, 0, from
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
