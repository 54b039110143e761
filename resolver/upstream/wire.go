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

// Buffers come in two sizes. A large one holds the largest DNS message plus
// the two-byte TCP length prefix: it reads TCP replies, and UDP replies to
// a client that advertised more than smallMsg. A small one holds a query
// (nearly always under a hundred bytes) or a UDP reply of up to smallMsg
// bytes: what nearly every query advertises. A query holds its buffer for
// the whole exchange, so with 64 KiB each a burst of cold misses held tens
// of megabytes, and every collection emptied the pool for them to be made
// again.
const (
	bufSize  = 2 + dns.MaxMsgSize
	smallMsg = 4096
	// smallBufSize is one more than a small reply with its prefix: a
	// datagram that fills the buffer was cut by the kernel.
	smallBufSize = 2 + smallMsg + 1
)

// bufPool and smallPool recycle message buffers: every attempt needs one
// for the query and one for reading replies.
var (
	bufPool   = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}
	smallPool = sync.Pool{New: func() any { b := make([]byte, smallBufSize); return &b }}
)

func getBuf() *[]byte       { return bufPool.Get().(*[]byte) }
func getSmallBuf() *[]byte  { return smallPool.Get().(*[]byte) }
func putBuf(b *[]byte)      { bufPool.Put(b) }
func putSmallBuf(b *[]byte) { smallPool.Put(b) }

// putAny returns b to the pool of its size; nil is ignored.
func putAny(b *[]byte) {
	switch {
	case b == nil:
	case len(*b) == smallBufSize:
		putSmallBuf(b)
	default:
		putBuf(b)
	}
}

// query is the packed form of one request, shared by the attempts of one
// Exchange (which run one after another); each attempt stamps a fresh ID.
type query struct {
	q     dns.Question
	frame []byte  // two-byte length prefix then the message
	buf   *[]byte // frame's pooled buffer; nil when frame did not fit one
	// udpSize is the largest UDP reply the query allows (RFC 6891 §6.2.3):
	// its OPT record's size, or 512 without one.
	udpSize int
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
	udpSize := dns.MinMsgSize
	if opt := out.IsEdns0(); opt != nil {
		udpSize = max(udpSize, int(opt.UDPSize()))
	}
	buf := getSmallBuf()
	wire, err := out.PackBuffer((*buf)[2:])
	if err != nil {
		putSmallBuf(buf)
		return nil, fmt.Errorf("pack %s: %w", req.Question[0].Name, err)
	}
	q := &query{q: req.Question[0], udpSize: udpSize}
	q.setFrame(buf, wire)
	return q, nil
}

// setFrame makes wire, packed into (*buf)[2:], the query's frame. When it
// did not fit there (PackBuffer then allocates) the frame is a copy of its
// own and buf goes back to its pool.
func (q *query) setFrame(buf *[]byte, wire []byte) {
	if len(wire) <= len(*buf)-2 && &wire[0] == &(*buf)[2] {
		binary.BigEndian.PutUint16(*buf, uint16(len(wire)))
		q.frame, q.buf = (*buf)[:2+len(wire)], buf
		return
	}
	putAny(buf)
	q.frame = make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(q.frame, uint16(len(wire)))
	copy(q.frame[2:], wire)
}

// clone copies the query into a buffer of its own, for an attempt that
// may outlive the Exchange that owns q.
func (q *query) clone() *query {
	c := &query{q: q.q, udpSize: q.udpSize}
	if len(q.frame) > smallBufSize {
		c.frame = append([]byte(nil), q.frame...)
		return c
	}
	buf := getSmallBuf()
	n := copy(*buf, q.frame)
	c.frame, c.buf = (*buf)[:n], buf
	return c
}

// free returns the query's buffer; the query must not be used afterwards.
func (q *query) free() { putAny(q.buf) }

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
	if m, ok := quickReply(p, q); ok {
		return m
	}
	return fullReply(p, q)
}

// fullReply is parseReply by miekg's unpack: for what quickReply does not read.
func fullReply(p []byte, q dns.Question) *dns.Msg {
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
