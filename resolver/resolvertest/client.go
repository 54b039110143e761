package resolvertest

import (
	"net"
	"time"

	"github.com/miekg/dns"
)

// ExchangeFrom sends m to addr over proto ("udp" or "tcp") from the local
// address src ("" for any: all of 127/8 is local on Linux, so each
// 127.0.0.x is a different client network) and returns the reply.
func ExchangeFrom(tb TB, proto, src, addr string, m *dns.Msg) *dns.Msg {
	tb.Helper()
	resp, err := TryExchangeFrom(proto, src, addr, m)
	if err != nil {
		tb.Fatalf("%s exchange from %s: %v", proto, src, err)
	}
	return resp
}

// TryExchangeFrom is ExchangeFrom returning the error instead.
func TryExchangeFrom(proto, src, addr string, m *dns.Msg) (*dns.Msg, error) {
	c := &dns.Client{Net: proto, Timeout: 5 * time.Second, UDPSize: dns.MaxMsgSize}
	if src != "" {
		ip := net.ParseIP(src)
		if proto == "tcp" {
			c.Dialer = &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
		} else {
			c.Dialer = &net.Dialer{LocalAddr: &net.UDPAddr{IP: ip}}
		}
	}
	resp, _, err := c.Exchange(m, addr)
	return resp, err
}

// RawExchange sends raw bytes over UDP and returns the reply, or nil when
// none arrives within wait.
func RawExchange(tb TB, addr string, pkt []byte, wait time.Duration) *dns.Msg {
	tb.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write(pkt); err != nil {
		tb.Fatalf("write: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		return nil
	}
	m := new(dns.Msg)
	if err := m.Unpack(buf[:n]); err != nil {
		tb.Fatalf("reply does not parse: %v", err)
	}
	return m
}
