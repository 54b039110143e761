//go:build linux && !386 && !s390x

// Raw system calls: on 386 and s390x, Linux before 4.3 has the socket calls
// only through socketcall, so those use the portable files.

package listen

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// The raw batches write and read socket addresses themselves: every
// family, port byte order and IPv6 zone survives the round trip.
func TestSockaddrsRoundTrip(t *testing.T) {
	for _, s := range []string{"127.0.0.1:53", "10.1.2.3:65535", "192.0.2.1:258", "[::1]:1053", "[2001:db8::1]:1", "[fe80::1%lo]:5353", "[fe80::2%4000000]:53"} {
		ap := netip.MustParseAddrPort(s)
		var sa unix.RawSockaddrAny
		n := putSockaddr(&sa, ap)
		if want := map[bool]uint32{true: unix.SizeofSockaddrInet4, false: unix.SizeofSockaddrInet6}[ap.Addr().Is4()]; n != want {
			t.Errorf("%s: length %d, want %d", s, n, want)
		}
		got, ok := sockaddrAddrPort(&sa)
		if !ok || got != ap {
			t.Errorf("%s: read back %v (%v)", s, got, ok)
		}
	}
	// A zone given as a number reads back as the interface's name, as
	// net names it.
	var lo unix.RawSockaddrAny
	putSockaddr(&lo, netip.MustParseAddrPort("[fe80::1%1]:53"))
	if got, _ := sockaddrAddrPort(&lo); got.Addr().Zone() != "lo" {
		t.Errorf("zone 1 read back as %q, want lo", got.Addr().Zone())
	}
	// The port is in network byte order, as the kernel reads it.
	var sa unix.RawSockaddrAny
	putSockaddr(&sa, netip.MustParseAddrPort("127.0.0.1:258"))
	if b := sa.Addr.Data[:2]; b[0] != 1 || b[1] != 2 {
		t.Errorf("port 258 written as bytes %v, want [1 2]", b)
	}
	if _, ok := sockaddrAddrPort(&unix.RawSockaddrAny{}); ok {
		t.Error("an empty address read as one")
	}
}
