package xfr

import (
	"net"

	"github.com/miekg/dns"
)

// Writer is a dns.ResponseWriter for one request read by a transport
// other than miekg/dns's server (privdns's own listeners): it verifies the
// request's TSIG against a Keyring as that server would, and signs every
// message written through it, chaining MACs across the messages of a
// transfer (RFC 8945 §5.3.1). It is what lets Serve and HandleNotify run
// behind any socket code.
type Writer struct {
	local, remote net.Addr
	send          func([]byte) error
	kr            Keyring
	status        error
	mac           string // MAC of the request, then of the last message sent
	timersOnly    bool
}

var _ dns.ResponseWriter = (*Writer)(nil)

// NewWriter returns the writer for req, read as raw from remote (a
// *net.TCPAddr for TCP, which Serve requires for AXFR). send writes one
// whole message (over TCP, with its two-byte length in front). kr may be
// nil: signed requests then fail verification, as with a server that has
// no keys.
func NewWriter(req *dns.Msg, raw []byte, local, remote net.Addr, kr Keyring, send func([]byte) error) *Writer {
	w := &Writer{local: local, remote: remote, send: send, kr: kr}
	if t := req.IsTsig(); t != nil {
		if kr == nil {
			w.status = dns.ErrSecret
		} else {
			w.status = dns.TsigVerifyWithProvider(raw, kr, "", false)
		}
		w.mac = t.MAC
	}
	return w
}

// WriteMsg packs m, signing it when it carries a TSIG stub.
func (w *Writer) WriteMsg(m *dns.Msg) error {
	if m.IsTsig() == nil || w.kr == nil {
		if m.IsTsig() != nil { // no keys: strip the stub rather than send it unsigned
			m.Extra = m.Extra[:len(m.Extra)-1]
		}
		data, err := m.Pack()
		if err != nil {
			return err
		}
		return w.send(data)
	}
	data, mac, err := dns.TsigGenerateWithProvider(m, w.kr, w.mac, w.timersOnly)
	if err != nil {
		return err
	}
	w.mac = mac
	return w.send(data)
}

// Write sends bytes already packed.
func (w *Writer) Write(b []byte) (int, error) {
	if err := w.send(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// LocalAddr is the address the request came to.
func (w *Writer) LocalAddr() net.Addr { return w.local }

// RemoteAddr is the address the request came from.
func (w *Writer) RemoteAddr() net.Addr { return w.remote }

// TsigStatus is the outcome of verifying the request's TSIG (nil when
// valid or absent).
func (w *Writer) TsigStatus() error { return w.status }

// TsigTimersOnly makes later messages sign the timers only, as the second
// and later messages of a transfer do.
func (w *Writer) TsigTimersOnly(b bool) { w.timersOnly = b }

// Close does nothing: the transport owns the connection.
func (w *Writer) Close() error { return nil }

// Hijack is not supported: the transport owns the connection.
func (w *Writer) Hijack() {}

// Network names the transport, for callers that ask.
func (w *Writer) Network() string {
	if _, ok := w.remote.(*net.TCPAddr); ok {
		return "tcp"
	}
	return "udp"
}
