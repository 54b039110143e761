//go:build !linux

package listen

import (
	"errors"
	"net"
)

func listenReusePort(string, *net.UDPAddr) (*net.UDPConn, error) {
	return nil, errors.New("SO_REUSEPORT is used on Linux only")
}

const reusePortWorks = false

func shareAddress(*net.UDPConn) error {
	return errors.New("SO_REUSEPORT is used on Linux only")
}
