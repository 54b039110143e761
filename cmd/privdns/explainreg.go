package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/zones/datadir"
	"github.com/privdns/privdns/zones/registration"
)

// A Registry is linked as the zone's source: its registered names answer,
// its registered addresses' reverse names get PTR answers, and answers of
// its registered names are told apart.
var _ resolver.RegisteredSource = (*registration.Registry)(nil)
var _ resolver.ReverseSource = (*registration.Registry)(nil)

// readRegistrations gives explain what a registration zone serves: its
// own records and the registrations the server journaled in
// server.dataDir, read without writing there (the server may be running),
// and says where they come from. nil: the zone's own records only.
func readRegistrations(out io.Writer, cfg *config.Config, store *datadir.Store, z *config.Zone) *registration.Registry {
	where := "registration zone " + strings.TrimSuffix(z.Name, ".") + ": "
	if store == nil {
		fmt.Fprintln(out, where+"no server.dataDir, so no registrations to read here; only the zone's own records answer in this explain")
		return nil
	}
	reg, err := registration.ReadOnly(store, registration.Options{Manual: z.Data, Settings: registrationSettings(z)})
	if err != nil {
		fmt.Fprintf(out, "%sthe registrations in %s are unreadable (%v); only the zone's own records answer in this explain\n", where, cfg.Server.DataDir, err)
		return nil
	}
	fmt.Fprintf(out, "%s%d registered names, from the journal in %s (serial %d)\n", where, reg.Registrations(), cfg.Server.DataDir, reg.Current().SOA().Serial)
	return reg
}

// printRegistrations says who registered each name of the answer that a
// registration holds, and until when: the name asked, the owners of the
// answer's records, and the names a registered address's PTR answer
// points to.
func printRegistrations(out io.Writer, regs []*registration.Registry, qname string, resp *dns.Msg, now time.Time) {
	if len(regs) == 0 {
		return
	}
	names := []string{qname}
	for _, rr := range resp.Answer {
		names = append(names, rr.Header().Name)
		if p, ok := rr.(*dns.PTR); ok {
			names = append(names, p.Ptr)
		}
	}
	seen := map[string]bool{}
	for _, name := range names {
		name = dns.CanonicalName(name)
		if seen[name] {
			continue
		}
		seen[name] = true
		for _, reg := range regs {
			if !dns.IsSubDomain(reg.Name(), name) {
				continue
			}
			if r, ok := reg.Lookup(name); ok {
				printRegistration(out, reg.Name(), r, now)
			}
		}
	}
}

func printRegistration(out io.Writer, zone string, r registration.Registration, now time.Time) {
	fmt.Fprintf(out, "  registration of %s (zone %s):\n", r.Name, zone)
	if key, ok := r.By.KeyName(); ok {
		fmt.Fprintf(out, "    by: TSIG key %s (a signed update)\n", key)
	} else {
		fmt.Fprintf(out, "    by: %s (an unsigned update from the client itself)\n", r.By)
	}
	fmt.Fprintf(out, "    first registered: %s\n", stamp(r.Since))
	fmt.Fprintf(out, "    last renewed: %s\n", stamp(r.Renewed))
	switch _, key := r.By.KeyName(); {
	case !r.Expires.IsZero():
		fmt.Fprintf(out, "    expires: %s (in %s, unless renewed)\n", stamp(r.Expires), r.Expires.Sub(now).Round(time.Second))
	case key:
		fmt.Fprintln(out, "    expires: never (a key's registrations stay until its DHCP server deletes them)")
	default:
		fmt.Fprintln(out, "    expires: never (registration.expireAfter is 0)")
	}
	for _, rr := range r.Records {
		fmt.Fprintf(out, "    %s\n", strings.ReplaceAll(rr.String(), "\t", " "))
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
