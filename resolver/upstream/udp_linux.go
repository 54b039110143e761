//go:build linux && !386 && !s390x

// Raw system calls: on 386 and s390x, Linux before 4.3 has the socket calls
// only through socketcall, so those use the portable files.

package upstream

import (
	"fmt"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
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
	if err := connect(fd, sa); err != nil {
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
			werr = ignoringEINTR(func() error { _, err := rawIO(syscall.SYS_WRITE, fd, msg); return err })
			return werr != nil // else wait until the socket is readable
		}
		rerr = ignoringEINTR(func() (err error) { n, err = rawIO(syscall.SYS_READ, fd, buf); return err })
		return rerr != syscall.EAGAIN
	})
	switch {
	case werr == syscall.EAGAIN: // a full send buffer: wait to write, as os.File does
		if _, err := conn.Write(msg); err != nil {
			return 0, fmt.Errorf("udp write: %w", err)
		}
		return readDatagram(conn, buf)
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

// rawIO reads or writes (trap SYS_READ or SYS_WRITE) b on the
// non-blocking socket fd as a raw system call, which never blocks and so
// need not tell the scheduler, nor wake its monitor thread (see the
// listeners' udpbatch_linux.go).
func rawIO(trap uintptr, fd uintptr, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(unsafe.SliceData(b))
	}
	r, _, e := syscall.RawSyscall(trap, fd, uintptr(p), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// connect connects the non-blocking UDP socket fd to sa as a raw system
// call: for UDP it only sets the peer, and never blocks.
func connect(fd int, sa syscall.Sockaddr) error {
	var raw unsafe.Pointer
	var n uintptr
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		r := syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: sa.Addr}
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(sa.Port>>8), byte(sa.Port)
		raw, n = unsafe.Pointer(&r), syscall.SizeofSockaddrInet4
	case *syscall.SockaddrInet6:
		r := syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: sa.Addr, Scope_id: sa.ZoneId}
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(sa.Port>>8), byte(sa.Port)
		raw, n = unsafe.Pointer(&r), syscall.SizeofSockaddrInet6
	default:
		return syscall.Connect(fd, sa)
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(raw), n); e != 0 {
		return e
	}
	return nil
}
