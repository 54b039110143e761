package dnsserver

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/wire"
	"github.com/privdns/privdns/zones/registration"
	"github.com/privdns/privdns/zones/secondary"
	"github.com/privdns/privdns/zones/xfr"
)

// Authority is what a Handler answers under R12 rather than by resolving:
// SOA, AXFR and IXFR requests of the zones with a transfer block, and
// NOTIFY. A load builds one and gives it to every Handler (SetAuthority).
type Authority struct {
	Keys  xfr.Keyring          // every key of tsigKeys: what a signed request is verified against
	Zones map[string]*AuthZone // every zone privdns holds, by apex (lower-case FQDN)
	// Updated, when set, is told the outcome of every UPDATE: the zone
	// ("" for one privdns does not hold) and the rcode answered.
	Updated func(zone string, rcode int)
}

// AuthZone is one zone privdns holds, as R12 sees it.
type AuthZone struct {
	// Source hands out the zone's data as served now.
	Source resolver.ZoneSource
	// Transfer is the zone's transfer block (its Zone is taken from Source
	// at each request); nil when the zone has none: every transfer of it is
	// REFUSED.
	Transfer *xfr.Outbound
	// Secondary follows the zone's primaries; nil for a zone of a file.
	Secondary *secondary.Secondary
	// Registry takes the zone's UPDATEs (R13); Replica forwards them to
	// the zone's primary instead (a replica's zone is a Secondary). With
	// neither, updates are refused.
	Registry *registration.Registry
	Replica  *registration.Replica
	// Linked are the networks linked to the zone; Registering those of
	// them whose link has registrationEnabled; Keys the key names
	// (lower-case FQDN) of registration.tsigKeys.
	Linked, Registering, Keys map[string]bool
}

// SetAuthority makes a the zones transfers and NOTIFY are answered for,
// from the next request on; nil refuses every transfer and NOTIFY.
func (h *Handler) SetAuthority(a *Authority) { h.auth.Store(a) }

// Direct answers the requests R12 judges, whatever the client's network
// (R1 does not apply to them): NOTIFY, and AXFR, IXFR and, from a source in
// the zone's transfer.allow, SOA queries of a zone privdns holds. Replies
// are written through send, signed when the request was (its TSIG
// verified against raw, the request as read). It reports whether it
// answered; everything else goes to Answer.
func (h *Handler) Direct(req *dns.Msg, raw []byte, local, remote net.Addr, send func([]byte) error) bool {
	if !wire.MaybeDirect(req) {
		return false
	}
	start := time.Now()
	a := h.auth.Load()
	var keys xfr.Keyring
	if a != nil {
		keys = a.Keys
	}
	proto := "udp"
	if _, tcp := remote.(*net.TCPAddr); tcp {
		proto = "tcp"
	}
	var src netip.Addr
	counted := false
	// The first reply is counted and logged before it is sent, as Answer's
	// are: a client that has its reply finds it in the metrics and logs.
	first := func(b []byte) error {
		if !counted && len(b) >= 4 {
			counted = true
			h.observeDirect(req, src, proto, int(b[3]&0xF), time.Since(start))
		}
		return send(b)
	}
	whole := countsMatch(req, raw) // before NewWriter: verifying a TSIG rewrites raw's ARCOUNT
	w := xfr.NewWriter(req, raw, local, remote, keys, first)
	src = xfr.Source(w)
	var z *AuthZone
	if a != nil && len(req.Question) == 1 {
		z = a.Zones[strings.ToLower(req.Question[0].Name)]
	}
	var err error
	switch {
	case !whole:
		// Fewer records than the header announces: a message cut short,
		// never applied in part (RFC 2136 §3.1, R7).
		if req.Opcode == dns.OpcodeUpdate && a != nil && a.Updated != nil {
			zone := ""
			if z != nil {
				zone = z.Source.Name()
			}
			a.Updated(zone, dns.RcodeFormatError)
		}
		err = w.WriteMsg(errorReply(req, dns.RcodeFormatError))
	case req.Opcode == dns.OpcodeNotify:
		err = h.notify(w, req, z)
	case req.Opcode == dns.OpcodeUpdate:
		err = h.update(w, req, z, src, a)
	default:
		qtype := req.Question[0].Qtype
		switch {
		case qtype == dns.TypeSOA && (z == nil || z.Transfer == nil || !z.Transfer.Allowed(src) ||
			z.Transfer.Key != nil && req.IsTsig() == nil):
			// An ordinary question, resolved by R1–R8: an unsigned SOA
			// query where transfers must be signed is a client's, not a
			// secondary's (client networks and transfer.allow overlap).
			return false
		case z == nil || z.Transfer == nil:
			h.log.Debug("transfer refused: no transfer block", "zone", req.Question[0].Name, "client", src)
			err = w.WriteMsg(errorReply(req, dns.RcodeRefused))
		default:
			o := *z.Transfer
			o.Zone = z.Source.Current()
			err = xfr.Serve(w, req, &o)
		}
	}
	if err != nil {
		h.log.Debug("writing a transfer reply failed", "client", src, "question", questionString(req), "err", err)
	}
	return true
}

// countsMatch reports whether req holds as many records in each section
// as raw's header says: miekg/dns unpacks a message with records missing
// at its end without an error.
func countsMatch(req *dns.Msg, raw []byte) bool {
	if len(raw) < 12 {
		return false
	}
	count := func(at int) int { return int(raw[at])<<8 | int(raw[at+1]) }
	return count(4) == len(req.Question) && count(6) == len(req.Answer) && count(8) == len(req.Ns) && count(10) == len(req.Extra)
}

// observeDirect counts and logs a reply of Direct.
func (h *Handler) observeDirect(req *dns.Msg, src netip.Addr, proto string, rcode int, d time.Duration) {
	network := h.networkName(src)
	name, qtype := "", uint16(0)
	if len(req.Question) == 1 {
		name, qtype = req.Question[0].Name, req.Question[0].Qtype
	}
	if h.opts.Observer != nil {
		h.opts.Observer.Request(network, proto, qtype, rcode, d)
	}
	if set := h.set.Load(); set.QueryLog && rand.Float64() < set.QuerySampling {
		h.logLine(src, proto, network, name, qtype, rcode, "transfer", "", "", d)
	}
}

// notify answers a NOTIFY (R12): FORMERR without exactly one question,
// NOTAUTH for a zone privdns does not hold, REFUSED for one it holds
// without primaries; a secondary zone judges the sender itself.
func (h *Handler) notify(w *xfr.Writer, req *dns.Msg, z *AuthZone) error {
	switch {
	case len(req.Question) != 1:
		return w.WriteMsg(errorReply(req, dns.RcodeFormatError))
	case xfr.TSIGFailed(w, req):
		return xfr.ReplyTSIGError(w, req)
	case z == nil:
		return xfr.Reply(w, req, dns.RcodeNotAuth)
	case z.Secondary == nil:
		h.log.Info("NOTIFY refused: the zone has no primaries", "zone", req.Question[0].Name, "client", xfr.Source(w))
		return xfr.Reply(w, req, dns.RcodeRefused)
	}
	return z.Secondary.HandleNotify(w, req)
}

// update answers an UPDATE (R13): TSIG errors first; a signed update is
// judged by its key (R1 does not apply), an unsigned one by the client's
// network; then the zone's Registry judges the update itself.
func (h *Handler) update(w *xfr.Writer, req *dns.Msg, z *AuthZone, src netip.Addr, a *Authority) error {
	zone, rcode := "", dns.RcodeSuccess
	if z != nil {
		zone = z.Source.Name()
	}
	var who registration.Principal
	tsig := req.IsTsig()
	network := h.networkName(src)
	switch {
	case len(req.Question) != 1:
		rcode = dns.RcodeFormatError
	case xfr.TSIGFailed(w, req):
		if a != nil && a.Updated != nil {
			a.Updated(zone, dns.RcodeNotAuth)
		}
		return xfr.ReplyTSIGError(w, req)
	case tsig != nil && z == nil:
		rcode = dns.RcodeNotAuth
	case tsig != nil && !z.Keys[strings.ToLower(tsig.Hdr.Name)]:
		rcode = dns.RcodeRefused
	case tsig != nil:
		who = registration.Key(tsig.Hdr.Name)
	case network == "":
		rcode = dns.RcodeRefused // R1
	case z == nil || !z.Linked[network]:
		rcode = dns.RcodeNotAuth // a zone the client's network does not see
	case !z.registers() || !z.Registering[network]:
		rcode = dns.RcodeRefused
	default:
		who = registration.Client(src)
	}
	if rcode == dns.RcodeSuccess {
		var res registration.Result
		if z.Replica != nil {
			res = z.Replica.Update(context.Background(), req, who)
		} else {
			res = z.Registry.Update(req, who)
		}
		rcode = res.Rcode
		if res.Reason != "" {
			h.log.Info("update not applied", "zone", zone, "by", who.String(), "rcode", dns.RcodeToString[rcode], "reason", res.Reason)
		} else {
			h.log.Debug("update applied", "zone", zone, "by", who.String())
		}
	}
	if a != nil && a.Updated != nil {
		a.Updated(zone, rcode)
	}
	return xfr.Reply(w, req, rcode)
}

// registers reports whether z takes updates, itself or through its
// primary.
func (z *AuthZone) registers() bool { return z != nil && (z.Registry != nil || z.Replica != nil) }

// networkName is the network of src as R1 chooses it, for counting.
func (h *Handler) networkName(src netip.Addr) string {
	return h.opts.Engine.View().NetworkOf(h.set.Load().Network, src)
}
