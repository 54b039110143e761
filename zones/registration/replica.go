package registration

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/xfr"
)

// ReplicaOptions configure a Replica. Zone, Primary, Key and Copy are
// required.
type ReplicaOptions struct {
	// Zone is the apex, any case.
	Zone string
	// Primary is registration.primary, host:port: where accepted updates
	// go.
	Primary string
	// Key is registration.primaryKey: it signs every forwarded update,
	// and the primary's answers must be signed with it.
	Key *xfr.Key
	// Settings are the zone's registration block; ExpireAfter is the
	// primary's business and ignored here.
	Settings
	// Copy is the zone as the replica holds it (a secondary of the
	// primary): nil before any data and while expired.
	Copy func() *zones.Zone
	// Refresh, when set, is called after the primary accepted an update:
	// it checks the primary now rather than wait for its NOTIFY, and
	// returns once the copy holds the change (or ctx ends), so that the
	// client that registered is answered its name by this replica at once.
	Refresh func(ctx context.Context)
	// RefreshWait bounds Refresh; default 1s. The update's answer waits
	// for it.
	RefreshWait time.Duration
	// Timeout bounds one forward, both tries (UDP, then TCP when
	// truncated); default 2s.
	Timeout time.Duration
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Replica is a registration zone held by a replica (SPEC R13): it checks
// each update against its copy of the zone, forwards the accepted ones to
// the primary signed with the primary's key, and answers what the primary
// answered. The primary arbitrates between replicas: an unsigned
// registration is forwarded with prerequisites that encode the replica's
// check, so a registration the copy did not show yet fails there.
type Replica struct {
	opts ReplicaOptions
	ttl  uint32
	keys map[string]bool

	mu   sync.Mutex // guards scan.wire
	scan checker
	busy chan struct{} // a slot per forward in flight

	building sync.Mutex // one build of the map at a time

	reverse atomic.Pointer[reverseMap] // of the last copy PTR saw
}

// reverseMap is the registered names of one version of the copy, and the
// reverse names of their addresses.
type reverseMap struct {
	zone  *zones.Zone
	ptr   map[string][]dns.RR
	names map[string]bool
}

// maxForwards bounds the updates a replica forwards at once: a primary
// that does not answer holds each for the forward's timeout, and the
// listener that asked waits meanwhile.
const maxForwards = 64

// ErrReplicaOptions is returned by NewReplica when a required option is
// missing.
var ErrReplicaOptions = errors.New("registration: a replica needs a zone, a primary, a key and its copy")

// NewReplica returns the replica of opts.Zone.
func NewReplica(opts ReplicaOptions) (*Replica, error) {
	if opts.Zone == "" || opts.Primary == "" || opts.Key == nil || opts.Copy == nil {
		return nil, ErrReplicaOptions
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.RefreshWait <= 0 {
		opts.RefreshWait = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Replica{opts: opts, scan: newChecker(dns.CanonicalName(opts.Zone)), busy: make(chan struct{}, maxForwards)}
	// A Registry's settings without its journal: the same defaults.
	var reg Registry
	reg.configure(opts.Settings)
	r.ttl, r.keys = reg.ttl, reg.keys
	return r, nil
}

// Name is the zone's apex, a lower-case FQDN.
func (r *Replica) Name() string { return r.scan.apex }

// Current is the copy of the zone, as the replica serves it (nil before
// any data and while expired).
func (r *Replica) Current() *zones.Zone { return r.opts.Copy() }

// PTR answers the reverse names of registered addresses from the copy, as
// Registry.PTR does on the primary. The copy does not tell who made a
// record, so the registered ones are taken to be the A and AAAA records
// below the apex at registration.ttl, the TTL they are answered with
// (give the zone's own records another TTL). The map is built once per
// version of the copy.
func (r *Replica) PTR(qname string) []dns.RR {
	m := r.registered()
	if m == nil || len(m.ptr) == 0 {
		return nil
	}
	if rrs, found := m.ptr[qname]; found {
		return rrs
	}
	return m.ptr[dns.CanonicalName(qname)]
}

// Registered reports whether name (a lower-case FQDN) holds registered
// records in the copy, by the rule of PTR: for the query log and explain.
func (r *Replica) Registered(name string) bool {
	m := r.registered()
	return m != nil && m.names[name]
}

// registered is the map of the current copy, built at its first use.
func (r *Replica) registered() *reverseMap {
	z := r.opts.Copy()
	if z == nil {
		return nil
	}
	if m := r.reverse.Load(); m != nil && m.zone == z {
		return m
	}
	r.building.Lock()
	defer r.building.Unlock()
	m := r.reverse.Load()
	if m == nil || m.zone != z {
		m = registeredIn(z, r.ttl)
		r.reverse.Store(m)
	}
	return m
}

// Held is a copy of a replica's zone as explain reads it from dataDir: it
// answers reverse names and tells registered names by the rule the
// replica serves them with (Replica.PTR).
type Held struct {
	m *reverseMap
}

// NewHeld returns z, held by a replica with settings s.
func NewHeld(z *zones.Zone, s Settings) *Held {
	var reg Registry
	reg.configure(s)
	return &Held{m: registeredIn(z, reg.ttl)}
}

// Name is the zone's apex.
func (h *Held) Name() string { return h.m.zone.Name() }

// Current is the copy.
func (h *Held) Current() *zones.Zone { return h.m.zone }

// PTR is Replica.PTR on the copy.
func (h *Held) PTR(qname string) []dns.RR { return h.m.ptr[dns.CanonicalName(qname)] }

// Registered is Replica.Registered on the copy.
func (h *Held) Registered(name string) bool { return h.m.names[name] }

// registeredIn finds the registered names of z, the A and AAAA records
// below its apex at ttl, and the reverse names of their addresses.
func registeredIn(z *zones.Zone, ttl uint32) *reverseMap {
	m := &reverseMap{zone: z, ptr: map[string][]dns.RR{}, names: map[string]bool{}}
	for _, rr := range z.Records() {
		h := rr.Header()
		name := dns.CanonicalName(h.Name)
		if h.Ttl != ttl || name == z.Name() || strings.HasPrefix(name, "*.") {
			continue
		}
		ip, isAddr := address(rr)
		if !isAddr {
			continue
		}
		m.names[name] = true
		rev, err := dns.ReverseAddr(ip.String())
		if err != nil {
			continue
		}
		m.ptr[rev] = append(m.ptr[rev], &dns.PTR{Hdr: dns.RR_Header{Name: rev, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: ttl}, Ptr: name})
	}
	for _, set := range m.ptr {
		slices.SortFunc(set, func(a, b dns.RR) int { return cmp.Compare(a.(*dns.PTR).Ptr, b.(*dns.PTR).Ptr) })
	}
	return m
}

// Update checks an update from who as a Registry would, as far as the copy
// tells, then forwards it to the primary and returns the primary's answer:
// SERVFAIL when the primary cannot be reached, its answer is not signed
// with the key, or it refused the key. msg is not modified. The caller
// has verified msg's TSIG and, for an unsigned update, the client's
// network, as for Registry.Update.
func (r *Replica) Update(ctx context.Context, msg *dns.Msg, who Principal) Result {
	fwd, res := r.check(msg, who)
	if res.Rcode != dns.RcodeSuccess {
		return res
	}
	select {
	case r.busy <- struct{}{}:
		defer func() { <-r.busy }()
	default:
		return fail(dns.RcodeServerFailure, "%d updates are waiting on the primary %s already", maxForwards, r.opts.Primary)
	}
	res = r.forward(ctx, fwd)
	if res.Rcode == dns.RcodeSuccess && r.opts.Refresh != nil {
		wait, cancel := context.WithTimeout(ctx, r.opts.RefreshWait)
		r.opts.Refresh(wait)
		cancel()
	}
	return res
}

// check is R13 against the copy; it returns the update to forward.
func (r *Replica) check(msg *dns.Msg, who Principal) (*dns.Msg, Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res := r.scan.checkZone(msg); res.Rcode != dns.RcodeSuccess {
		return nil, res
	}
	held := r.opts.Copy()
	if held == nil {
		return nil, fail(dns.RcodeServerFailure, "the replica holds no data of %s yet (or it expired): the primary is unreachable", r.scan.apex)
	}
	// The order of Registry.Update: prerequisites (against the copy; the
	// primary checks them again), the update's form, then R13's rules.
	if res := r.scan.prerequisites(held, msg.Answer); res.Rcode != dns.RcodeSuccess {
		return nil, res
	}
	ops, res := r.scan.prescan(msg.Ns)
	if res.Rcode != dns.RcodeSuccess {
		return nil, res
	}
	fwd := new(dns.Msg)
	fwd.SetUpdate(r.scan.apex)
	fwd.Answer = wireCopies(msg.Answer, 0) // the client's own prerequisites
	switch {
	case who.key != "":
		if !r.keys[who.key] {
			return nil, fail(dns.RcodeRefused, "key %s is not one of the zone's registration keys", who.key)
		}
		for _, o := range ops {
			if res := r.scan.belowApex(o.name); res.Rcode != dns.RcodeSuccess {
				return nil, res
			}
			if res := keyOp(o); res.Rcode != dns.RcodeSuccess {
				return nil, res
			}
		}
		fwd.Ns = wireCopies(msg.Ns, r.ttl)
	case who.addr.IsValid():
		if len(ops) == 0 {
			return nil, fail(dns.RcodeRefused, "an unsigned update must touch one name, this one touches none")
		}
		for _, o := range ops {
			if res := r.scan.belowApex(o.name); res.Rcode != dns.RcodeSuccess {
				return nil, res
			}
			if res := clientOp(o, ops[0].name, who); res.Rcode != dns.RcodeSuccess {
				return nil, res
			}
		}
		name := ops[0].name
		for _, rr := range msg.Answer {
			// RFC 2136 §3.2.5 would merge it with the claim, which
			// then says less than the replica checked.
			if h := rr.Header(); h.Class == dns.ClassINET && dns.CanonicalName(h.Name) == name {
				return nil, fail(dns.RcodeRefused, "an unsigned update through a replica may not hold value-dependent prerequisites on %s, the name it registers", name)
			}
		}
		pre, res := claim(held, name, who, r.ttl)
		if res.Rcode != dns.RcodeSuccess {
			return nil, res
		}
		fwd.Answer = append(fwd.Answer, pre, marker(r.scan.apex))
		fwd.Ns = r.replacing(ops, who)
	default:
		return nil, fail(dns.RcodeRefused, "an update from nobody")
	}
	return fwd, ok
}

// marker is the last prerequisite of a forwarded client registration,
// after its claim: the apex's SOA exists, always true, and never sent by
// a DHCP server, so that a primary tells a replica's forward from a key's
// own update of the same shape.
func marker(apex string) dns.RR {
	return &dns.ANY{Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassANY}}
}

// wireCopies copies records to forward: those of classes ANY and NONE
// rebuilt without data (as miekg/dns unpacks an empty MX, say, it would
// pack again with data), adds at ttl when it is not 0.
func wireCopies(rrs []dns.RR, ttl uint32) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		h := *rr.Header()
		switch {
		case h.Class == dns.ClassANY || h.Class == dns.ClassNONE && isEmpty(rr):
			h.Rdlength = 0
			out[i] = &dns.ANY{Hdr: h}
		default:
			out[i] = dns.Copy(rr)
			if ttl != 0 && h.Class == dns.ClassINET {
				out[i].Header().Ttl = ttl
			}
		}
	}
	return out
}

// claim is the replica's check of an unsigned registration of name,
// encoded as the prerequisite the primary checks again (last of the
// update's): the name is not in use, or its only records are the
// client's own address.
func claim(held *zones.Zone, name string, who Principal, ttl uint32) (dns.RR, Result) {
	res := held.Lookup(name, dns.TypeANY)
	if res.Kind != zones.Answer || res.Wildcard {
		return &dns.ANY{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeANY, Class: dns.ClassNONE}}, ok
	}
	// A record at another TTL than registration.ttl is the zone's own,
	// which wins even at the client's address (the primary may be BIND,
	// which does not know registrations from its own records).
	if len(res.Records) == 1 && res.Records[0].Header().Ttl == ttl {
		if a, isAddr := address(res.Records[0]); isAddr && a == who.addr {
			rr := dns.Copy(res.Records[0])
			*rr.Header() = dns.RR_Header{Name: name, Rrtype: rr.Header().Rrtype, Class: dns.ClassINET}
			return rr, ok
		}
	}
	return nil, fail(dns.RcodeRefused, "%s is held by other records (the zone's own, or another registration)", name)
}

// replacing is an unsigned update as the primary is to apply it: when it
// adds the client's address, the name's RRset of that type is deleted
// first, since adding replaces (R13) and a primary such as BIND would
// otherwise add to it.
func (r *Replica) replacing(ops []op, who Principal) []dns.RR {
	own := uint16(dns.TypeA)
	if who.addr.Is6() {
		own = dns.TypeAAAA
	}
	var out []dns.RR
	for _, o := range ops {
		if o.kind == opAdd {
			out = append(out, &dns.ANY{Hdr: dns.RR_Header{Name: o.name, Rrtype: own, Class: dns.ClassANY}})
			break
		}
	}
	for _, o := range ops {
		switch o.kind {
		case opAdd, opDelRR:
			rr := dns.Copy(o.rr)
			if o.kind == opAdd {
				rr.Header().Ttl = r.ttl
			} else {
				rr.Header().Class = dns.ClassNONE
			}
			out = append(out, rr)
		case opDelRRset:
			out = append(out, &dns.ANY{Hdr: dns.RR_Header{Name: o.name, Rrtype: o.typ, Class: dns.ClassANY}})
		}
	}
	return out
}

// forward sends fwd to the primary, signed, and returns its answer.
func (r *Replica) forward(ctx context.Context, fwd *dns.Msg) Result {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	kr := xfr.NewKeyring(r.opts.Key)
	// Over UDP when it fits in 512 bytes, else over TCP; never both, since
	// the primary may have applied the first.
	network := "udp"
	if fwd.Len()+100 > dns.MinMsgSize { // room for the TSIG
		network = "tcp"
	}
	fwd.Id = dns.Id()
	r.opts.Key.Sign(fwd, time.Now())
	c := &dns.Client{Net: network, TsigProvider: kr}
	reply, _, err := c.ExchangeContext(ctx, fwd, r.opts.Primary)
	if res, bad := r.badReply(reply, err); bad {
		return res
	}
	if reply.Truncated {
		return fail(dns.RcodeServerFailure, "the primary %s answered truncated", r.opts.Primary)
	}
	if reply.Rcode > 0xF {
		return fail(dns.RcodeServerFailure, "the primary %s answered %s, an extended rcode", r.opts.Primary, rcodeName(reply.Rcode))
	}
	if reply.Rcode != dns.RcodeSuccess {
		return fail(reply.Rcode, "the primary %s answered %s", r.opts.Primary, rcodeName(reply.Rcode))
	}
	return ok
}

// badReply turns an exchange that did not give the primary's verdict into
// SERVFAIL: no answer, an answer not signed with the key, or the primary
// refusing the key itself (the client did nothing wrong).
func (r *Replica) badReply(reply *dns.Msg, err error) (Result, bool) {
	if reply != nil {
		if t := reply.IsTsig(); t != nil && t.Error != 0 {
			return fail(dns.RcodeServerFailure, "the primary %s rejected registration.primaryKey %s: %s", r.opts.Primary, r.opts.Key.Name, rcodeName(int(t.Error))), true
		}
	}
	switch {
	case errors.Is(err, dns.ErrAuth), errors.Is(err, dns.ErrSig), errors.Is(err, dns.ErrTime), errors.Is(err, dns.ErrKeyAlg):
		return fail(dns.RcodeServerFailure, "the primary %s answered, but not signed with registration.primaryKey %s (%v): are the secrets the same?", r.opts.Primary, r.opts.Key.Name, err), true
	case err != nil:
		return fail(dns.RcodeServerFailure, "forwarding to the primary %s: %v", r.opts.Primary, err), true
	case reply.IsTsig() == nil:
		return fail(dns.RcodeServerFailure, "the primary %s answered unsigned", r.opts.Primary), true
	case reply.Opcode != dns.OpcodeUpdate:
		return fail(dns.RcodeServerFailure, "the primary %s answered with opcode %s", r.opts.Primary, dns.OpcodeToString[reply.Opcode]), true
	}
	return Result{}, false
}

func rcodeName(rc int) string {
	if s, known := dns.RcodeToString[rc]; known {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

// forwardedClient recognises, on a primary, an update a replica forwarded
// for a client: its last prerequisites are the replica's claim (the name
// not in use, or its A or AAAA RRset of one address) and the marker (the
// apex's SOA exists), and its update section
// touches only that name's RRset of that type with that one address. It
// returns the client's address: the primary registers the name as that
// address's own, so that expireAfter and ownership hold as if the client
// had sent it there.
func forwardedClient(msg *dns.Msg) (netip.Addr, bool) {
	if len(msg.Answer) < 2 || len(msg.Ns) == 0 || len(msg.Question) != 1 {
		return netip.Addr{}, false
	}
	if m := msg.Answer[len(msg.Answer)-1].Header(); m.Class != dns.ClassANY || m.Rrtype != dns.TypeSOA ||
		!strings.EqualFold(dns.Fqdn(m.Name), dns.Fqdn(msg.Question[0].Name)) {
		return netip.Addr{}, false
	}
	last := msg.Answer[len(msg.Answer)-2]
	h := last.Header()
	name := dns.CanonicalName(h.Name)
	var typ uint16
	var addr netip.Addr
	switch {
	case h.Class == dns.ClassNONE && h.Rrtype == dns.TypeANY:
	case h.Class == dns.ClassINET && (h.Rrtype == dns.TypeA || h.Rrtype == dns.TypeAAAA):
		a, isAddr := address(last)
		if !isAddr {
			return netip.Addr{}, false
		}
		typ, addr = h.Rrtype, a
	default:
		return netip.Addr{}, false
	}
	for _, rr := range msg.Ns {
		h := rr.Header()
		if dns.CanonicalName(h.Name) != name || h.Rrtype != dns.TypeA && h.Rrtype != dns.TypeAAAA || typ != 0 && h.Rrtype != typ {
			return netip.Addr{}, false
		}
		typ = h.Rrtype
		switch h.Class {
		case dns.ClassANY:
		case dns.ClassINET, dns.ClassNONE:
			a, isAddr := address(rr)
			if !isAddr || addr.IsValid() && a != addr {
				return netip.Addr{}, false
			}
			addr = a
		default:
			return netip.Addr{}, false
		}
	}
	return addr, addr.IsValid()
}
