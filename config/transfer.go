package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// Transfer configures a zone's outbound transfers (R12).
type Transfer struct {
	// Allow are the source prefixes that may SOA-query, AXFR and IXFR the
	// zone (masked; a bare address is its host prefix). Everyone else is
	// REFUSED; an empty list refuses everyone.
	Allow []netip.Prefix
	// TSIGKey names (as TSIGKey.Name) the key transfers must be signed
	// with; "" = unsigned requests from Allow are answered.
	TSIGKey string
	Notify  []string // "ip:port" targets sent a NOTIFY when the serial changes
}

// Secondary reports whether the zone follows primaries rather than a file.
func (z *Zone) Secondary() bool { return len(z.Primaries) > 0 }

// decodeTransfers reads the keys of R12 (tsigKeys, server.dataDir and the
// zones' primaries, tsigKey and transfer) in a pass of their own, so the
// feature stays in one place.
func decodeTransfers(root node, cfg *Config) {
	cfg.TSIGKeys = decodeTSIGKeys(root.items("tsigKeys"))
	cfg.Server.DataDir = root.child("server").str("dataDir")
	for i, n := range root.items("zones") {
		if i >= len(cfg.Zones) {
			break
		}
		z := &cfg.Zones[i]
		if n.has("primaries") {
			z.Primaries = n.strs("primaries")
			if len(z.Primaries) == 0 {
				n.r.errorf(joinPath(n.path, "primaries"), "at least one primary required (or leave primaries out for a zone of a file or records)")
			}
		}
		z.TSIGKey = n.str("tsigKey")
		if !n.has("transfer") {
			continue
		}
		t := n.child("transfer")
		z.Transfer = &Transfer{TSIGKey: t.str("tsigKey"), Notify: t.strs("notify")}
		for j, s := range t.strs("allow") {
			key := fmt.Sprintf("%s.allow[%d]", t.path, j)
			p, err := sourcePrefix(s)
			if err != nil {
				n.r.errorf(key, "%v", err)
			}
			z.Transfer.Allow = append(z.Transfer.Allow, p) // the zero prefix when bad, so indexes match
		}
	}
}

// sourcePrefix reads a CIDR prefix or a bare address (its host prefix).
func sourcePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix such as 10.10.0.0/24 or an IP address", s)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// validateTransfers checks the R12 keys once validate has normalised the
// zones' names; dir is the configuration file's folder, which relative
// paths (dataDir, secretFile) are relative to.
func validateTransfers(r *report, cfg *Config, dir string) {
	keys := validateTSIGKeys(r, cfg.TSIGKeys, dir)
	if d := cfg.Server.DataDir; d != "" {
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			r.errorf("server.dataDir", "absolute path of %q: %v", d, err)
		}
		cfg.Server.DataDir = abs
	}
	for i := range cfg.Zones {
		validateZoneTransfer(r, fmt.Sprintf("zones[%d]", i), &cfg.Zones[i], keys)
	}
	validateRegistrations(r, cfg, keys)
}

func validateZoneTransfer(r *report, key string, z *Zone, keys keyIndex) {
	if z.Secondary() {
		switch {
		case z.File != "":
			r.errorf(key+".primaries", "a secondary zone takes its data from its primaries: remove file (or primaries)")
		case len(z.Records) > 0:
			r.errorf(key+".primaries", "a secondary zone takes its data from its primaries: remove records (or primaries)")
		}
	}
	seen := map[string]string{}
	for j, p := range z.Primaries {
		k := fmt.Sprintf("%s.primaries[%d]", key, j)
		addr, err := withPort(strings.TrimSpace(p), "53")
		switch {
		case err != nil:
			r.errorf(k, "%q: %v", p, err)
		case seen[addr] != "":
			r.errorf(k, "%s is listed twice (%s)", addr, seen[addr])
		default:
			seen[addr] = k
			z.Primaries[j] = addr
		}
	}
	if z.TSIGKey != "" && !z.Registration.Replica() { // a replica's is checked with its primary
		if !z.Secondary() {
			r.errorf(key+".tsigKey", "signs requests to primaries, and this zone has none (outbound transfers take transfer.tsigKey)")
		} else {
			z.TSIGKey = keys.ref(r, key+".tsigKey", z.TSIGKey)
		}
	}
	if t := z.Transfer; t != nil {
		if t.TSIGKey != "" {
			t.TSIGKey = keys.ref(r, key+".transfer.tsigKey", t.TSIGKey)
		}
		for j, n := range t.Notify {
			addr, err := withPort(strings.TrimSpace(n), "53")
			if err != nil {
				r.errorf(fmt.Sprintf("%s.transfer.notify[%d]", key, j), "%q: %v", n, err)
				continue
			}
			t.Notify[j] = addr
		}
		if len(t.Allow) == 0 && len(t.Notify) > 0 {
			r.warnf(key+".transfer.allow", "empty: the servers notified cannot transfer the zone (every request is refused)")
		}
	}
}

// checkTransferApex rejects a zone with outbound transfers but no NS at
// its apex, which secondaries refuse to load. A secondary zone is checked
// by its primary, not here: its data is not known at load.
func checkTransferApex(r *report, cfg *Config) {
	// Transfers and NOTIFY name a zone only by its name: of the zones
	// sharing one (in different networks), one at most may take part.
	holder := map[string]int{}
	for i, z := range cfg.Zones {
		if z.Transfer == nil && !z.Secondary() {
			continue
		}
		if j, dup := holder[z.Name]; dup {
			r.errorf(fmt.Sprintf("zones[%d]", i), "zone %s has primaries or a transfer block, and so has zones[%d] of the same name: transfers and NOTIFY name a zone only by its name, so one zone of a name at most may have them", z.Name, j)
			continue
		}
		holder[z.Name] = i
	}
	for i, z := range cfg.Zones {
		if z.Transfer == nil || z.Data == nil {
			continue
		}
		if res := z.Data.Lookup(z.Name, dns.TypeNS); res.Kind == zones.Answer {
			continue
		}
		r.errorf(fmt.Sprintf("zones[%d].transfer", i), "zone %s has no NS record at its apex, which secondaries require: add one (e.g. \"@ IN NS ns1\")", z.Name)
	}
}
