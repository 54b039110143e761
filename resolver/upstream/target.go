package upstream

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"
)

// target is one upstream server of a Group with its health and in-flight
// count, shared by every query of the group.
type target struct {
	spec     string       // as configured; the name in logs and metrics
	addr     string       // ip:port to dial
	udpAddr  *net.UDPAddr // addr, parsed once; never modified
	tls      *tlsPool
	health   *health // shared with other groups' targets of the same spec (Healths)
	inFlight atomic.Int64
}

// parseTarget turns "ip[:port]" or "tls://ip[:port][#server-name]" into a
// target. Hosts must be IP literals: resolving a name here could loop back
// into privdns itself.
func parseTarget(spec string, base *tls.Config, now func() time.Time) (*target, error) {
	rest, isTLS := strings.CutPrefix(spec, "tls://")
	port := uint16(53)
	serverName := ""
	if isTLS {
		port = 853
		rest, serverName, _ = strings.Cut(rest, "#")
	}
	ap, err := hostPort(rest, port)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadTarget, spec, err)
	}
	t := &target{spec: spec, addr: ap.String(), udpAddr: net.UDPAddrFromAddrPort(ap)}
	if isTLS {
		if serverName == "" {
			serverName = ap.Addr().String()
		}
		t.tls = newTLSPool(t.addr, tlsConfig(base, serverName), now)
	}
	return t, nil
}

// hostPort validates an IP literal with an optional port.
func hostPort(s string, defaultPort uint16) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		ip, ipErr := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
		if ipErr != nil {
			return netip.AddrPort{}, fmt.Errorf("want an IP address with an optional port: %w", err)
		}
		ap = netip.AddrPortFrom(ip, defaultPort)
	}
	if ap.Port() == 0 {
		return netip.AddrPort{}, errors.New("port 0")
	}
	return ap, nil
}

// tlsConfig clones the base configuration (nil means system roots) and pins
// the name the certificate must carry.
func tlsConfig(base *tls.Config, serverName string) *tls.Config {
	var cfg *tls.Config
	if base != nil {
		cfg = base.Clone()
	} else {
		cfg = &tls.Config{}
	}
	cfg.ServerName = serverName
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}
