package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// maxResourceName is Azure's limit on the names of networks, links and
// rulesets.
const maxResourceName = 80

// checkResourceName applies Azure's naming rule for the names of networks,
// links and rulesets, so a configuration mirrors one that Azure accepts.
func checkResourceName(name string) error {
	if name == "" {
		return errors.New("required")
	}
	if len(name) > maxResourceName {
		return fmt.Errorf("%q is longer than %d characters", name, maxResourceName)
	}
	for _, c := range name {
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Errorf("%q may hold only letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

// domainName checks a DNS name and returns it lower-cased and fully
// qualified. The root "." is accepted only when root is set (a forwarding
// rule for everything).
func domainName(name string, root bool) (string, error) {
	switch {
	case name == "":
		return "", errors.New("required")
	case name == ".":
		if root {
			return ".", nil
		}
		return "", errors.New("the root zone is not allowed here")
	}
	fqdn := dns.Fqdn(strings.ToLower(name))
	if len(fqdn) > 254 {
		return "", fmt.Errorf("%q is longer than 253 characters", name)
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(fqdn, "."), ".") {
		if err := checkLabel(label); err != nil {
			return "", fmt.Errorf("%q is not a DNS name: %w", name, err)
		}
	}
	return fqdn, nil
}

func checkLabel(label string) error {
	if label == "" {
		return errors.New("empty label")
	}
	if len(label) > 63 {
		return fmt.Errorf("label %q is longer than 63 characters", label)
	}
	for _, c := range label {
		if !isAlnum(c) && c != '-' && c != '_' {
			return fmt.Errorf("label %q may hold only letters, digits, '-' and '_'", label)
		}
	}
	return nil
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// serverAddress checks an upstream or rule target and returns it with its
// port spelt out: "host:port", "[v6]:port" or "tls://host:port#name". The
// port defaults to 53, or 853 for DNS over TLS.
func serverAddress(s string) (string, error) {
	rest, isTLS := strings.CutPrefix(s, "tls://")
	if !isTLS && strings.Contains(rest, "://") {
		return "", fmt.Errorf("%q: only plain host:port and tls://host:port#server-name are supported", s)
	}
	port, name := "53", ""
	if isTLS {
		port = "853"
		var hasName bool
		if rest, name, hasName = strings.Cut(rest, "#"); hasName {
			if _, err := domainName(name, false); err != nil {
				return "", fmt.Errorf("%q: bad TLS server name: %w", s, err)
			}
		}
	}
	hostPort, err := withPort(rest, port)
	if err != nil {
		return "", fmt.Errorf("%q: %w", s, err)
	}
	if !isTLS {
		return hostPort, nil
	}
	if name != "" {
		return "tls://" + hostPort + "#" + name, nil
	}
	return "tls://" + hostPort, nil
}

// withPort checks "host", "host:port", "v6", "[v6]" or "[v6]:port" and
// returns "host:port" with defPort when none is given.
func withPort(s, defPort string) (string, error) {
	if s == "" {
		return "", errors.New("empty address")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), defPort
		_, perr := netip.ParseAddr(host)
		bracketed := strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]")
		if perr != nil && strings.ContainsAny(s, ":[]") || strings.ContainsAny(s, "[]") && !bracketed {
			return "", errors.New("not host:port or [IPv6]:port")
		}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", fmt.Errorf("bad port %q", port)
	}
	port = strconv.FormatUint(p, 10)
	if _, err := netip.ParseAddr(host); err != nil {
		// A host name would have to be resolved, possibly through privdns
		// itself; like Azure's forwarding rules, targets are IP addresses.
		return "", fmt.Errorf("bad host %q: want an IP address (name a TLS server as tls://IP:port#name)", host)
	}
	return net.JoinHostPort(host, port), nil
}

// listenAddress checks a listener's "ip:port" (":port" = every address;
// port 0 = any free port, for tests) and returns the form it is compared
// in for duplicates.
func listenAddress(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q is not ip:port", s)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", fmt.Errorf("%q: bad port %q", s, port)
	}
	port = strconv.FormatUint(p, 10)
	if host == "" {
		return ":" + port, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("%q: %q is not an IP address", s, host)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// httpAddress checks the HTTP server's "host:port".
func httpAddress(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: bad port %q", s, port)
	}
	return nil
}
