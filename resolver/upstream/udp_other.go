//go:build !linux

package upstream

import "net"

// dialUDP opens a connected UDP socket to addr.
func dialUDP(addr *net.UDPAddr) (udpConn, error) { return net.DialUDP("udp", nil, addr) }
