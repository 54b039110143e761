package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// bindError is an address privdns could not bind, said so that a person
// knows which one and why.
type bindError struct {
	what string // "listener" or "server.http"
	addr string
	err  error
	note string // what privdns itself holds on that port, if anything
}

func (e *bindError) Error() string {
	msg := fmt.Sprintf("cannot listen on %s (%s): %s", e.addr, e.what, bindReason(e.err))
	if e.note != "" {
		msg += "; " + e.note
	}
	return msg
}

func (e *bindError) Unwrap() error { return e.err }

// bindReason says why a bind failed in the words of the person fixing it.
func bindReason(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "the address is already in use by another program"
	case errors.Is(err, syscall.EACCES):
		return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no interface of this host has that address"
	}
	return err.Error()
}

// withBindHint adds to a bind failure of a DNS listener how to pick another
// address from the command line (serve and demo take --listen); other
// errors are returned as they are.
func withBindHint(err error) error {
	var be *bindError
	if !errors.As(err, &be) {
		return err
	}
	if be.what == "server.http" {
		return fmt.Errorf("%w; set server.http (or PRIVDNS_SERVER_HTTP) to another address, or \"\" for none", err)
	}
	hint := "pick another address with --listen, e.g. --listen " + otherPort(be.addr)
	if _, port, _ := net.SplitHostPort(be.addr); port == "5353" {
		hint += " (5353 is mDNS's port, which avahi holds on many hosts)"
	}
	return fmt.Errorf("%w; %s", err, hint)
}

// otherPort suggests an address 9000 ports up from addr (1053 → 10053):
// far enough not to be the next listener of the same configuration.
func otherPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil || p <= 0 || p+9000 > 65535 {
		return "127.0.0.1:10053"
	}
	return net.JoinHostPort(host, strconv.Itoa(p+9000))
}
