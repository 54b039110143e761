package upstream

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// ednsSize is the UDP payload size advertised when the request carries no
// OPT record: large enough for most answers, small enough to avoid IP
// fragmentation (DNS flag day 2020).
const ednsSize = 1232

// bufSize holds the largest DNS message plus the two-byte TCP length prefix.
const bufSize = 2 + dns.MaxMsgSize

// bufPool recycles message buffers: every attempt needs one for the query
// and one for reading replies, and 64 KiB per attempt is too much garbage.
var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

func getBuf() *[]byte  { return bufPool.Get().(*[]byte) }
func putBuf(b *[]byte) { bufPool.Put(b) }

// query is the packed form of one request, shared by the attempts of one
// Exchange (which run one after another); each attempt stamps a fresh ID.
type query struct {
	q     dns.Question
	frame []byte // two-byte length prefix then the message
	buf   *[]byte
}

// newQuery packs what upstream needs from req without touching req: the
// question, the RD/CD/AD bits and a copy of its OPT record (or a fresh one
// advertising ednsSize). Other additional records (a client's TSIG, say)
// mean nothing to the upstream and are not forwarded.
func newQuery(req *dns.Msg) (*query, error) { return packQuery(req, true) }

// withoutEDNS is the query without its OPT record, for servers that do
// not know EDNS (RFC 6891 §7).
func (q *query) withoutEDNS() (*query, error) {
	m := new(dns.Msg)
	if err := m.Unpack(q.udp()); err != nil {
		return nil, err
	}
	m.Extra = nil
	return packQuery(m, false)
}

func packQuery(req *dns.Msg, edns bool) (*query, error) {
	if len(req.Question) != 1 {
		return nil, fmt.Errorf("%w: got %d", ErrBadRequest, len(req.Question))
	}
	out := dns.Msg{
		MsgHdr: dns.MsgHdr{
			Opcode:            req.Opcode,
			RecursionDesired:  req.RecursionDesired,
			CheckingDisabled:  req.CheckingDisabled,
			AuthenticatedData: req.AuthenticatedData,
		},
		Question: req.Question,
	}
	if opt := req.IsEdns0(); opt != nil && edns {
		out.Extra = []dns.RR{dns.Copy(opt)} // Pack writes into the OPT
	} else if edns {
		out.SetEdns0(ednsSize, false)
	}
	buf := getBuf()
	wire, err := out.PackBuffer((*buf)[2:])
	if err != nil {
		putBuf(buf)
		return nil, fmt.Errorf("pack %s: %w", req.Question[0].Name, err)
	}
	n := copy((*buf)[2:], wire) // a no-op unless Pack had to allocate
	binary.BigEndian.PutUint16(*buf, uint16(n))
	return &query{q: req.Question[0], frame: (*buf)[:2+n], buf: buf}, nil
}

// clone copies the query into a buffer of its own, for an attempt that
// may outlive the Exchange that owns q.
func (q *query) clone() *query {
	buf := getBuf()
	n := copy(*buf, q.frame)
	return &query{q: q.q, frame: (*buf)[:n], buf: buf}
}

// free returns the query's buffer; the query must not be used afterwards.
func (q *query) free() { putBuf(q.buf) }

// stamp gives the packed message a fresh unpredictable ID (RFC 5452) and
// returns it.
func (q *query) stamp() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	copy(q.frame[2:4], b[:])
	return binary.BigEndian.Uint16(b[:])
}

// udp returns the message without the TCP length prefix.
func (q *query) udp() []byte { return q.frame[2:] }

// parseReply unpacks p and returns nil unless it is a response to the query
// with ID id: same ID, QR set, and the same question (name case-insensitive,
// type, class). Anything else may be forged or stale and is to be ignored.
func parseReply(p []byte, id uint16, q dns.Question) *dns.Msg {
	if len(p) < 12 || binary.BigEndian.Uint16(p) != id {
		return nil // cheap check before unpacking
	}
	m := new(dns.Msg)
	if m.Unpack(p) != nil || !m.Response || len(m.Question) != 1 {
		return nil
	}
	got := m.Question[0]
	if got.Qtype != q.Qtype || got.Qclass != q.Qclass || !strings.EqualFold(got.Name, q.Name) {
		return nil
	}
	return m
}
