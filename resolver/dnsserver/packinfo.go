package dnsserver

import (
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/report"
)

// packInfo is the resolver.Recorder of a query whose reply may be kept
// ready-packed: which records are public, how many public steps were
// taken and whether the cache keeps each one's answer, and the private
// outcomes to tell again on every hit.
type packInfo struct {
	rrs    []rrOrigin // per answer record, then per authority record
	steps  int        // public steps taken
	kept   bool       // every public step's answer is kept by the cache
	until  time.Time  // the earliest Until of those answers
	deps   []report.Freshness
	fresh  report.Freshness // the last exchange's
	events []event
}

var _ resolver.Recorder = (*packInfo)(nil)

// rrOrigin says how a record's TTL runs: a public record's counts down from
// orig at stored, as the cache counts it (whole seconds); a private one's
// stays.
type rrOrigin struct {
	public bool
	stored time.Time
	orig   uint32
}

// event is one private outcome to tell again: a PrivateAnswer, a CNAME
// into the zone (outcome ""), or the missing name of a Default NXDOMAIN
// (name set).
type event struct {
	zone, link, outcome string
	network, name       string
}

// Exchanged notes one public exchange and what the cache said of it.
func (p *packInfo) Exchanged(f report.Freshness) {
	if p.steps == 0 {
		p.kept = true
	}
	p.steps++
	p.fresh = f
	if !f.Kept {
		p.kept = false
		return
	}
	if p.until.IsZero() || f.Until.Before(p.until) {
		p.until = f.Until
	}
	p.deps = append(p.deps, f)
}

// Added notes where rr came from: public ones from the last exchange.
func (p *packInfo) Added(public bool, rr dns.RR) {
	o := rrOrigin{public: public}
	if public {
		o.stored, o.orig = p.fresh.Stored, rr.Header().Ttl+p.fresh.Age
	}
	p.rrs = append(p.rrs, o)
}

func (p *packInfo) PrivateAnswer(zone, link, outcome string) {
	p.events = append(p.events, event{zone: zone, link: link, outcome: outcome})
}

func (p *packInfo) CNAMEIntoPrivate(zone string) {
	p.events = append(p.events, event{zone: zone})
}

func (p *packInfo) NXDomain(zone, network, link, name string) {
	p.events = append(p.events, event{zone: zone, network: network, link: link, name: name})
}
