package dnsserver

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/report"
	"github.com/privdns/privdns/resolver/upstream"
	"github.com/privdns/privdns/resolver/wire"
)

// UDPSize is the EDNS0 UDP payload size privdns advertises (DNS flag day
// 2020). Replies are truncated at the size the client advertises (512
// without EDNS), not at this one (R7).
const UDPSize = 1232

// Engine is what a Handler needs of the resolver: answers, the View they
// are resolved in (ready-packed replies are kept per View, and a client's
// network is chosen in it), and the Observer that ready-packed replies
// tell again about the private outcomes they repeat. *resolver.Engine is
// one; a wrapper must pass all three on.
type Engine interface {
	resolver.Resolver
	View() *resolver.View
	Observer() resolver.Observer
}

// RequestObserver is told about every answered request; metrics implement it.
type RequestObserver interface {
	Request(network, proto string, qtype uint16, rcode int, d time.Duration)
}

// defaultUpstreamBudget is server.limits.upstreamQueriesPerQuery's default.
const defaultUpstreamBudget = 16

// LimitObserver is told about every limit a query reaches (R11): its
// configuration key, as privdns_limited_total counts it.
type LimitObserver interface {
	Limited(limit string)
}

// Settings are the parts of a Handler a reload may change while its
// listener keeps running.
type Settings struct {
	// Network resolves every query as this network (a listener bound to a
	// network, like an Azure inbound endpoint); "" chooses by source (R1).
	Network string
	// Identity answers NSID and CHAOS id.server / hostname.bind; "" = off.
	Identity string
	// QueryLog logs one line per query (at info level) for the fraction
	// QuerySampling of queries.
	QueryLog      bool
	QuerySampling float64
	// UpstreamBudget bounds the upstream exchanges one client query may
	// cause (server.limits.upstreamQueriesPerQuery); 0 means 16. Beyond it
	// the query is SERVFAIL (EDE 0).
	UpstreamBudget int
}

// Options configures a Handler.
type Options struct {
	Settings
	Engine Engine // required
	// Timeout bounds one query's resolution; default 10s.
	Timeout  time.Duration
	Logger   *slog.Logger
	Observer RequestObserver
	// Now is the clock of ready-packed answers' TTLs (tests inject the
	// cache's); default time.Now.
	Now func() time.Time
	// NoPacked turns ready-packed UDP answers off (tests compare both).
	NoPacked bool
	Limits   LimitObserver // nil: limits reached are not counted
	// InFlight bounds the client queries waiting on upstreams at once
	// (server.limits.inFlight); the listeners of one server share it. A
	// query beyond it that needs an upstream is answered SERVFAIL (EDE 14)
	// at once; private and cached answers never take a place. nil:
	// unbounded.
	InFlight *report.Gate
}

// Handler answers the requests of one listener: it implements
// listen.Handler, and dns.Handler for anything else that serves miekg's way.
type Handler struct {
	opts   Options
	log    *slog.Logger
	set    atomic.Pointer[Settings]
	packed packedAnswers // UDP answers ready to send again
	auth   atomic.Pointer[Authority]
	wall   bool // opts.Now is the system clock: one reading serves both
}

// New returns a Handler; opts.Engine is required.
func New(opts Options) *Handler {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	wall := opts.Now == nil
	if wall {
		opts.Now = time.Now
	}
	h := &Handler{opts: opts, log: opts.Logger, wall: wall}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.Configure(opts.Settings)
	return h
}

// Configure changes the handler's settings for the queries that arrive
// from now on (reload).
func (h *Handler) Configure(s Settings) { h.set.Store(&s) }

// request is one query on its way through the Handler.
type request struct {
	q      resolver.Query
	set    *Settings
	rep    report.Report // what the cache and upstreams said
	budget report.Budget // rep's
	ctx    report.Query  // the context it is resolved in, with rep
	pack   *packInfo     // non-nil: note what a ready-packed reply needs
	logged bool          // this query is logged (sampled)
	epoch  uint64        // of the ready-packed store when the query arrived
	start  time.Time
}

// ServeDNS answers one request the way miekg's servers call handlers.
func (h *Handler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	proto := "udp"
	if _, tcp := w.RemoteAddr().(*net.TCPAddr); tcp {
		proto = "tcp"
	}
	var client netip.Addr
	if ap, err := netip.ParseAddrPort(w.RemoteAddr().String()); err == nil {
		client = ap.Addr()
	}
	if resp, _ := h.Answer(r, client, proto, false, nil); resp != nil {
		if err := w.WriteMsg(resp); err != nil {
			h.log.Debug("writing a response failed", "client", client, "err", err)
		}
	}
}

// Answer replies to req, asked by client over proto ("udp" or "tcp"), or
// returns nil when no reply is due. busy asks for an answer that waits on
// no upstream (the listener is full): private zones and the cache, fresh
// or stale, else SERVFAIL. With q, the parsed question of a UDP request,
// the reply may be kept ready-packed: keep, when not nil, takes the bytes
// as sent. A panic while resolving is answered SERVFAIL and logged.
func (h *Handler) Answer(req *dns.Msg, client netip.Addr, proto string, busy bool, q *wire.Question) (resp *dns.Msg, keep func([]byte)) {
	rq := &request{start: time.Now(), set: h.set.Load(), epoch: h.packed.epoch.Load()}
	rq.q = resolver.Query{Msg: req, Network: rq.set.Network, Proto: proto, Client: client.Unmap()}
	rq.rep.OnlyCached = busy
	rq.rep.Gate = h.opts.InFlight
	rq.logged = rq.set.QueryLog && rand.Float64() < rq.set.QuerySampling
	if q != nil && !h.opts.NoPacked && h.packed.again(q) {
		rq.pack = &packInfo{}
		rq.q.Recorder = rq.pack
	}
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic while answering a query", "panic", p, "client", rq.q.Client, "question", questionString(req))
			resp, keep = h.finish(rq, servfail(req, errInternal, h.explains(rq))), nil
		}
	}()
	resp = h.finish(rq, h.answer(rq))
	if resp != nil && rq.pack != nil {
		keep = func(b []byte) { h.storePacked(rq, q, resp, b) }
	}
	return resp, keep
}

// Malformed answers a packet that does not parse, known only by its
// header: FORMERR with its ID, opcode and RD bit (R7), or NOTIMP for an
// opcode privdns does not implement, whatever the rest holds (R11);
// counted and logged under the client's network like any other reply. It
// is the one place the reply to an unparsed packet is made.
func (h *Handler) Malformed(dh dns.Header, client netip.Addr, proto string) *dns.Msg {
	rq := &request{start: time.Now(), set: h.set.Load()}
	rq.q = resolver.Query{Msg: new(dns.Msg), Network: rq.set.Network, Proto: proto, Client: client.Unmap()}
	rcode := dns.RcodeFormatError
	switch int(dh.Bits >> 11 & 0xF) {
	case dns.OpcodeQuery, dns.OpcodeNotify, dns.OpcodeUpdate: // opcodes privdns serves
	default:
		rcode = dns.RcodeNotImplemented
	}
	resp := wire.HeaderReply(dh, rcode)
	resp.RecursionAvailable = resp.Opcode == dns.OpcodeQuery
	h.networkOf(rq)
	d := time.Since(rq.start)
	if h.opts.Observer != nil {
		h.opts.Observer.Request(rq.q.Network, proto, 0, resp.Rcode, d)
	}
	if rq.set.QueryLog && rand.Float64() < rq.set.QuerySampling {
		h.logQuery(rq, resp, d)
	}
	return resp
}

// answer produces the reply before EDNS and size shaping.
func (h *Handler) answer(rq *request) *dns.Msg {
	r := rq.q.Msg
	if r.Response {
		return nil
	}
	if r.Opcode != dns.OpcodeQuery {
		return errorReply(r, dns.RcodeNotImplemented) // checked before QDCOUNT (R11)
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
		if h.networkOf(rq) == "" {
			return h.refuseUnknown(rq) // R1: never answer clients in no network
		}
		return chaos(r, rq.set.Identity)
	case qs.Qclass != dns.ClassINET:
		return errorReply(r, dns.RcodeRefused)
	case qs.Qtype == dns.TypeAXFR || qs.Qtype == dns.TypeIXFR:
		return errorReply(r, dns.RcodeRefused)
	}
	budget := rq.set.UpstreamBudget
	if budget <= 0 {
		budget = defaultUpstreamBudget
	}
	rq.budget.Set(budget)
	rq.rep.Budget = &rq.budget
	rq.ctx.Init(&rq.rep, rq.start.Add(h.opts.Timeout))
	defer rq.ctx.End()
	ctx := &rq.ctx
	defer rq.rep.Release() // also when resolving panics
	resp, err := h.opts.Engine.Resolve(ctx, &rq.q)
	if err != nil {
		h.log.Debug("no answer", "question", questionString(r), "network", rq.q.Network, "path", rq.q.Path, "err", err)
		switch {
		case errors.Is(err, upstream.ErrBudget):
			h.limited("upstreamQueriesPerQuery")
		case rq.rep.Refused(): // a stale answer instead is no refusal
			h.limited("inFlight")
		}
		return servfail(r, err, h.explains(rq))
	}
	if resp.Rcode == dns.RcodeRefused && rq.q.View != nil && rq.q.View.NetworkOf(rq.set.Network, rq.q.Client) == "" {
		return h.refuseUnknown(rq)
	}
	if qs.Qtype == dns.TypeANY && rq.q.Proto == "udp" && resp.Rcode == dns.RcodeSuccess {
		minimalANY(resp, qs.Name)
	}
	return resp
}

// refuseUnknown is the REFUSED of a client in no network (R1): with EDE
// 18 (Prohibited), so that dig says why, and a debug line, so that an
// operator who turns debug on sees which sources are refused.
func (h *Handler) refuseUnknown(rq *request) *dns.Msg {
	r := rq.q.Msg
	h.log.Debug("refused: the client is in no network", "client", rq.q.Client, "question", questionString(r), "proto", rq.q.Proto)
	resp := errorReply(r, dns.RcodeRefused)
	resp.Extra = append(resp.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}, Option: []dns.EDNS0{
		&dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeProhibited, ExtraText: "privdns: the source address is in no client network"},
	}}) // merged with the client's EDNS by finish
	return resp
}

// minimalANY turns the answer to an ANY query over UDP for a name that
// exists into the one HINFO record of RFC 8482 §4.2: a small reply that
// is useless for amplification. A missing name keeps its NXDOMAIN; over
// TCP ANY is answered as usual (R11).
func minimalANY(resp *dns.Msg, qname string) {
	resp.Answer = []dns.RR{&dns.HINFO{
		Hdr: dns.RR_Header{Name: qname, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: anyTTL},
		Cpu: "RFC8482", Os: "",
	}}
	resp.Ns = nil
}

// anyTTL is the TTL of the RFC 8482 HINFO record.
const anyTTL = 3789

func (h *Handler) limited(limit string) {
	if h.opts.Limits != nil {
		h.opts.Limits.Limited(limit)
	}
}

// explains reports whether SERVFAILs carry their reason (server.explain),
// as the View the query was resolved with says.
func (h *Handler) explains(rq *request) bool {
	v := rq.q.View
	if v == nil {
		v = h.opts.Engine.View()
	}
	return v.Explain()
}

// networkOf chooses the request's network (R1) for queries answered
// without the resolver; "" when the client is in none.
func (h *Handler) networkOf(rq *request) string {
	if rq.q.Network == "" {
		rq.q.Network = h.opts.Engine.View().NetworkOf(rq.set.Network, rq.q.Client)
	}
	return rq.q.Network
}
