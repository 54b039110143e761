package upstream

import (
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
