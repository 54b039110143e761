package resolver

import (
	"context"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenReusePort binds a UDP socket with SO_REUSEPORT, so that several
// sockets share one address and the kernel spreads clients over them.
func listenReusePort(network string, ua *net.UDPAddr) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	pc, err := lc.ListenPacket(context.Background(), network, ua.String())
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

const reusePortWorks = true
