package resolver

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/report"
)

// UDPSize is the EDNS0 UDP payload size privdns advertises and the most it
// sends over UDP (DNS flag day 2020).
const UDPSize = 1232

// RequestObserver is told about every answered request; metrics implement it.
type RequestObserver interface {
	Request(network, proto string, qtype uint16, rcode int, d time.Duration)
}

// Settings are the parts of a Handler a reload may change while its
// listener keeps running.
type Settings struct {
	// Network resolves every query as this network (a listener bound to a
	// network, like an Azure inbound endpoint); "" chooses by source (R1).
	Network string
	// Identity answers NSID and CHAOS id.server / hostname.bind; "" = off.
	Identity string
	// Explain adds an Extended DNS Error saying why to SERVFAIL answers
	// (server.explain, like the R8 texts).
	Explain bool
	// QueryLog logs one line per query (at info level) for the fraction
	// QuerySampling of queries.
	QueryLog      bool
	QuerySampling float64
}

// HandlerOptions configures a Handler.
type HandlerOptions struct {
	Settings
	Resolver Resolver
	// Timeout bounds one query's resolution; default 10s.
	Timeout  time.Duration
	Logger   *slog.Logger
	Observer RequestObserver
	// Now is the clock of ready-packed answers' TTLs (tests inject the
	// cache's); default time.Now.
	Now func() time.Time
	// NoPacked turns ready-packed UDP answers off (tests compare both).
	NoPacked bool
	// MaxInFlight bounds the queries a listener resolves at once, for UDP
	// and for TCP each (ready-packed answers aside); beyond it a query is
	// answered at once from what needs no upstream, else SERVFAIL. Default
	// 4096.
	MaxInFlight int
}

// Handler is the dns.Handler of a listener: it checks the request, asks
// the Resolver, and shapes the response for the wire (R7, R8).
type Handler struct {
	opts   HandlerOptions
	log    *slog.Logger
	set    atomic.Pointer[Settings]
	packed packedAnswers // UDP answers ready to send again
}

// NewHandler returns a Handler; opts.Resolver is required.
func NewHandler(opts HandlerOptions) *Handler {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 4096
	}
	h := &Handler{opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.Configure(opts.Settings)
	return h
}

// Configure changes the handler's settings for the queries that arrive
// from now on (reload).
func (h *Handler) Configure(s Settings) { h.set.Store(&s) }

// MsgAcceptFunc drops responses before they are parsed and lets every
// request through to the Handler, which answers NOTIMP and FORMERR itself
// with the response shape of R7 (miekg's default rejects them with RA
// clear, and accepts NOTIFY).
func MsgAcceptFunc(dh dns.Header) dns.MsgAcceptAction {
	const qrBit = 1 << 15
	if dh.Bits&qrBit != 0 {
		return dns.MsgIgnore
	}
	return dns.MsgAccept
}

// ServeDNS answers one request (the TCP path, and UDP on wildcard
// addresses).
func (h *Handler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	proto := "udp"
	if _, tcp := w.RemoteAddr().(*net.TCPAddr); tcp {
		proto = "tcp"
	}
	var client netip.Addr
	if ap, err := netip.ParseAddrPort(w.RemoteAddr().String()); err == nil {
		client = ap.Addr()
	}
	if resp := h.Answer(r, client, proto); resp != nil {
		if err := w.WriteMsg(resp); err != nil {
			h.log.Debug("writing a response failed", "client", client, "err", err)
		}
	}
}

// Answer resolves r, asked by client over proto ("udp" or "tcp"), and
// returns the response shaped for the wire, or nil when none is due. A
// panic while resolving is answered SERVFAIL and logged; the server goes on.
func (h *Handler) Answer(r *dns.Msg, client netip.Addr, proto string) *dns.Msg {
	_, _, resp := h.answerQuery(r, client, proto, false)
	return resp
}

// answerQuery is Answer, also returning the Query and the Settings it was
// answered with; pack asks the resolver for what a ready-packed answer
// needs.
func (h *Handler) answerQuery(r *dns.Msg, client netip.Addr, proto string, pack bool) (q *Query, set *Settings, resp *dns.Msg) {
	return h.answerWith(r, client, proto, pack, false)
}

// overloaded answers req when the listener already resolves MaxInFlight
// queries: at once, from private zones and the cache only (fresh, else
// stale); what would need an upstream is a SERVFAIL saying why.
func (h *Handler) overloaded(req *dns.Msg, client netip.Addr, proto string) *dns.Msg {
	_, _, resp := h.answerWith(req, client, proto, false, true)
	return resp
}

func (h *Handler) answerWith(r *dns.Msg, client netip.Addr, proto string, pack, busy bool) (q *Query, set *Settings, resp *dns.Msg) {
	start := time.Now()
	set = h.set.Load()
	q = &Query{Msg: r, Network: set.Network, Proto: proto, Client: client.Unmap(), busy: busy}
	q.logged = set.QueryLog && rand.Float64() < set.QuerySampling
	if pack {
		q.pack = &packInfo{}
	}
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic while answering a query", "panic", p, "client", q.Client, "question", questionString(r))
			q.pack = nil
			resp = h.finish(q, set, errorReply(r, dns.RcodeServerFailure), start)
		}
	}()
	return q, set, h.finish(q, set, h.answer(q, set), start)
}

// unparsed answers a packet that does not parse: FORMERR with its ID,
// opcode and RD bit (R7), counted and logged under the client's network
// like any other reply.
func (h *Handler) unparsed(dh dns.Header, client netip.Addr, proto string, start time.Time) *dns.Msg {
	set := h.set.Load()
	q := &Query{Msg: new(dns.Msg), Network: set.Network, Proto: proto, Client: client.Unmap()}
	resp := headerReply(dh, dns.RcodeFormatError)
	h.networkOf(q, set)
	d := time.Since(start)
	if h.opts.Observer != nil {
		h.opts.Observer.Request(q.Network, proto, 0, resp.Rcode, d)
	}
	if set.QueryLog && rand.Float64() < set.QuerySampling {
		h.logQuery(q, resp, d)
	}
	return resp
}

// answer produces the reply before EDNS and size shaping.
func (h *Handler) answer(q *Query, set *Settings) *dns.Msg {
	r := q.Msg
	if r.Response {
		return nil
	}
	if r.Opcode != dns.OpcodeQuery {
		return errorReply(r, dns.RcodeNotImplemented)
	}
	if len(r.Question) != 1 || countOPT(r.Extra) > 1 {
		return errorReply(r, dns.RcodeFormatError)
	}
	if opt := r.IsEdns0(); opt != nil && opt.Version() != 0 {
		return errorReply(r, dns.RcodeBadVers)
	}
	qs := r.Question[0]
	switch {
	case qs.Qclass == dns.ClassCHAOS:
		if h.networkOf(q, set) == "" {
			return errorReply(r, dns.RcodeRefused) // R1: never answer clients in no network
		}
		return chaos(r, set.Identity)
	case qs.Qclass != dns.ClassINET:
		return errorReply(r, dns.RcodeRefused)
	case qs.Qtype == dns.TypeAXFR || qs.Qtype == dns.TypeIXFR:
		return errorReply(r, dns.RcodeRefused)
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.Timeout)
	defer cancel()
	q.report.OnlyCached = q.busy
	ctx = report.With(ctx, &q.report)
	resp, err := h.opts.Resolver.Resolve(ctx, q)
	if err != nil {
		h.log.Debug("no answer", "question", questionString(r), "network", q.Network, "err", err)
		resp = errorReply(r, dns.RcodeServerFailure)
		var ee *explainedError
		if errors.As(err, &ee) {
			// The chain's own texts (a fallback's R8 text, a stale marker):
			// the walk only made them when server.explain allows.
			opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
			for i := range ee.ede {
				opt.Option = append(opt.Option, &ee.ede[i])
			}
			resp.Extra = append(resp.Extra, opt)
		}
		if set.Explain {
			resp.Extra = append(resp.Extra, servfailEDE(err))
		}
	}
	return resp
}

// servfailEDE says why there is no answer (RFC 8914): the chain limit, or
// what the upstreams did. The server merges it into the reply's OPT.
func servfailEDE(err error) *dns.OPT {
	code := dns.ExtendedErrorCodeNoReachableAuthority
	text := "privdns: " + err.Error()
	switch {
	case errors.Is(err, ErrChainLimit):
		code = dns.ExtendedErrorCodeOther
	case errors.Is(err, errBusy) || errors.Is(err, cache.ErrNotCached):
		code, text = dns.ExtendedErrorCodeOther, "privdns: too many queries in flight"
	}
	if len(text) > 300 {
		text = text[:297] + "..."
	}
	return &dns.OPT{
		Hdr:    dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT},
		Option: []dns.EDNS0{&dns.EDNS0_EDE{InfoCode: code, ExtraText: text}},
	}
}

// networkOf chooses q's network (R1) for queries answered without the
// resolver; "" when the client is in none (or the resolver cannot say).
func (h *Handler) networkOf(q *Query, set *Settings) string {
	if q.Network == "" {
		if nc, ok := h.opts.Resolver.(interface {
			NetworkOf(string, netip.Addr) string
		}); ok {
			q.Network = nc.NetworkOf(set.Network, q.Client)
		}
	}
	return q.Network
}

// chaos answers CHAOS id.server and hostname.bind with the identity; other
// CHAOS names (version.bind among them) are refused.
func chaos(r *dns.Msg, identity string) *dns.Msg {
	qs := r.Question[0]
	name := strings.ToLower(qs.Name)
	if identity == "" || qs.Qtype != dns.TypeTXT || (name != "id.server." && name != "hostname.bind.") {
		return errorReply(r, dns.RcodeRefused)
	}
	resp := new(dns.Msg)
	resp.SetReply(r)
	resp.Answer = []dns.RR{&dns.TXT{
		Hdr: dns.RR_Header{Name: qs.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS},
		Txt: []string{identity},
	}}
	return resp
}

func errorReply(r *dns.Msg, rcode int) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetRcode(r, rcode)
	if rcode == dns.RcodeFormatError && len(r.Question) != 1 {
		resp.Question = nil
	}
	return resp
}

func countOPT(extra []dns.RR) int {
	n := 0
	for _, rr := range extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			n++
		}
	}
	return n
}

func questionString(r *dns.Msg) string {
	if len(r.Question) == 0 {
		return ""
	}
	q := r.Question[0]
	return q.Name + " " + dns.Class(q.Qclass).String() + " " + dns.Type(q.Qtype).String()
}
