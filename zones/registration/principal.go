package registration

import (
	"net/netip"

	"github.com/miekg/dns"
)

// Principal is who sent an update, as the server established it: the
// client's source address for an unsigned update, or the name of the
// verified TSIG key for a signed one. A registration belongs to the
// principal that made it. The zero Principal is nobody: Update refuses it.
type Principal struct {
	addr netip.Addr // unsigned: the client
	key  string     // signed: lower-case FQDN of the key
}

// Client is the principal of an unsigned update from addr. An IPv4 address
// mapped into IPv6 (::ffff:10.0.0.5) is the IPv4 client it stands for.
func Client(addr netip.Addr) Principal { return Principal{addr: addr.Unmap()} }

// Key is the principal of an update signed with the TSIG key name (any
// case, trailing dot optional).
func Key(name string) Principal {
	if name == "" {
		return Principal{}
	}
	return Principal{key: dns.CanonicalName(name)}
}

// Addr is the client's address, for an unsigned update's principal.
func (p Principal) Addr() (netip.Addr, bool) { return p.addr, p.addr.IsValid() }

// KeyName is the key's lower-case FQDN, for a signed update's principal.
func (p Principal) KeyName() (string, bool) { return p.key, p.key != "" }

// String is "10.0.0.5" for a client, "key dhcp." for a key, "nobody" for
// the zero Principal: what logs and explain print.
func (p Principal) String() string {
	switch {
	case p.key != "":
		return "key " + p.key
	case p.addr.IsValid():
		return p.addr.String()
	}
	return "nobody"
}
