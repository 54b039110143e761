package upstream

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// dialUDP opens a connected, non-blocking UDP socket to addr with two
// system calls, socket and connect, where net.DialUDP makes five more
// (options, and asking the kernel both addresses back): a cold miss pays
// for one socket per query, so this is a fifth of its cost. The socket
// is read and written through the runtime's poller, with deadlines, as
// net's are.
func dialUDP(addr *net.UDPAddr) (udpConn, error) {
	family, sa := syscall.AF_INET, syscall.Sockaddr(nil)
	if ip4 := addr.IP.To4(); ip4 != nil {
		sa4 := &syscall.SockaddrInet4{Port: addr.Port}
		copy(sa4.Addr[:], ip4)
		sa = sa4
	} else {
		family = syscall.AF_INET6
		sa6 := &syscall.SockaddrInet6{Port: addr.Port}
		copy(sa6.Addr[:], addr.IP.To16())
		if addr.Zone != "" {
			if ifi, err := net.InterfaceByName(addr.Zone); err == nil {
				sa6.ZoneId = uint32(ifi.Index)
			}
		}
		sa = sa6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("connect", err)
	}
	return os.NewFile(uintptr(fd), "udp"), nil // errors name the upstream already
}

// sendThenRead writes msg and reads the first datagram back into buf. The
// write is made from within the poller's read, so a reply that arrives
// before the first read attempt is not lost and the read does not first
// try, and fail with EAGAIN, before waiting: one system call fewer per
// query, as the reply is never there yet when the query has just left.
func sendThenRead(conn udpConn, msg, buf []byte) (int, error) {
	f, ok := conn.(*os.File)
	if !ok {
		if _, err := conn.Write(msg); err != nil {
			return 0, fmt.Errorf("udp write: %w", err)
		}
		return readDatagram(conn, buf)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("udp write: %w", err)
	}
	var (
		sent       bool
		n          int
		werr, rerr error
	)
	err = rc.Read(func(fd uintptr) bool {
		if !sent {
			sent = true
			werr = ignoringEINTR(func() error { _, err := syscall.Write(int(fd), msg); return err })
			return werr != nil // else wait until the socket is readable
		}
		rerr = ignoringEINTR(func() (err error) { n, err = syscall.Read(int(fd), buf); return err })
		return rerr != syscall.EAGAIN
	})
	switch {
	case werr != nil:
		return 0, fmt.Errorf("udp write: %w", os.NewSyscallError("write", werr))
	case err != nil: // the deadline, or the socket closed by a cancellation
		return 0, fmt.Errorf("udp read: %w", err)
	case rerr != nil:
		return 0, fmt.Errorf("udp read: %w", os.NewSyscallError("read", rerr))
	case n == 0:
		return readDatagram(conn, buf) // an empty datagram
	}
	return n, nil
}

// ignoringEINTR calls f until it fails with something other than EINTR.
func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
