package listen

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

// shareAddress sets SO_REUSEPORT on conn, already bound without it: the
// sockets bound with listenReusePort next join it on its address, and the
// kernel spreads clients over all of them, conn included (Linux lets the
// option be set after bind). The address is never free in between.
func shareAddress(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
