package xfr

import (
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// Source returns the address a request came from, unmapped.
func Source(w dns.ResponseWriter) netip.Addr {
	ap, err := netip.ParseAddrPort(w.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func overTCP(w dns.ResponseWriter) bool {
	_, ok := w.RemoteAddr().(*net.TCPAddr)
	return ok
}

// TSIGFailed reports whether req carries a TSIG that failed verification
// in the server: such a request must get ReplyTSIGError and nothing else.
func TSIGFailed(w dns.ResponseWriter, req *dns.Msg) bool {
	return req.IsTsig() != nil && w.TsigStatus() != nil
}

// ReplyTSIGError answers a request whose TSIG failed verification NOTAUTH
// with the TSIG error (RFC 8945 §5.2): BADKEY and BADSIG unsigned, BADTIME
// signed and carrying the server's time.
func ReplyTSIGError(w dns.ResponseWriter, req *dns.Msg) error {
	t := req.IsTsig()
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeNotAuth)
	now := time.Now()
	m.SetTsig(t.Hdr.Name, t.Algorithm, t.Fudge, now.Unix())
	rt := m.Extra[len(m.Extra)-1].(*dns.TSIG)
	rt.OrigId = req.Id
	rt.Error = tsigErrorCode(w.TsigStatus())
	if rt.Error == dns.RcodeBadTime {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(now.Unix()))
		rt.OtherLen, rt.OtherData = 6, hex.EncodeToString(b[2:])
		return w.WriteMsg(m) // signed
	}
	// BADSIG and BADKEY go unsigned (RFC 8945 §5.3.2), packed here: a
	// writer's signing would zero Time Signed, and clients then blame
	// their clocks. BIND sends its time too.
	data, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// Reply answers req with rcode and the records given, AA set, signed
// with the request's key when the request was signed (and verified).
func Reply(w dns.ResponseWriter, req *dns.Msg, rcode int, answer ...dns.RR) error {
	m := new(dns.Msg)
	m.SetRcode(req, rcode)
	m.Authoritative = rcode == dns.RcodeSuccess
	m.Answer = answer
	signLike(m, req, w)
	return w.WriteMsg(m)
}

// signLike adds a TSIG stub for the request's key, which the server's
// writer completes, when req was signed and verified.
func signLike(m, req *dns.Msg, w dns.ResponseWriter) {
	if t := req.IsTsig(); t != nil && w.TsigStatus() == nil {
		m.SetTsig(t.Hdr.Name, t.Algorithm, t.Fudge, time.Now().Unix())
	}
}
