//go:build !linux

package resolver

import (
	"errors"
	"net"
)

func listenReusePort(string, *net.UDPAddr) (*net.UDPConn, error) {
	return nil, errors.New("SO_REUSEPORT is used on Linux only")
}

const reusePortWorks = false
