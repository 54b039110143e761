package config

import (
	"fmt"
	"time"
)

// Registration is a zone's registration block (R13): how the names that
// machines and DHCP servers register by RFC 2136 UPDATE are kept.
type Registration struct {
	TTL         time.Duration // of every registered record; default 10s, as Azure's
	ExpireAfter time.Duration // an address registration not renewed within it is removed; 0 = never
	// TSIGKeys name (as TSIGKey.Name) the keys whose signed updates may
	// register any name of the zone (a DHCP server).
	TSIGKeys []string
	// Primary and PrimaryKey are replica mode: read and refused, since
	// this build does not forward updates.
	Primary, PrimaryKey string
}

// defaultRegistrationTTL is Azure's TTL of auto-registered records.
const defaultRegistrationTTL = 10 * time.Second

// decodeRegistrations reads zones[].registration.
func decodeRegistrations(root node, cfg *Config) {
	for i, n := range root.items("zones") {
		if i >= len(cfg.Zones) || !n.has("registration") {
			continue
		}
		b := n.child("registration")
		reg := &Registration{TTL: defaultRegistrationTTL, ExpireAfter: b.duration("expireAfter"), TSIGKeys: b.strs("tsigKeys"),
			Primary: b.str("primary"), PrimaryKey: b.str("primaryKey")}
		if b.has("ttl") {
			reg.TTL = b.duration("ttl")
		}
		cfg.Zones[i].Registration = reg
	}
}

// validateRegistrations checks R13's keys: a zone that registers (a
// registration block, or a link with registrationEnabled) keeps its
// registrations in server.dataDir, so it must be set; a secondary zone
// takes its data from its primaries and registers nothing itself.
func validateRegistrations(r *report, cfg *Config, keys keyIndex) {
	for i := range cfg.Zones {
		z := &cfg.Zones[i]
		key := fmt.Sprintf("zones[%d]", i)
		registers := z.Registration != nil
		for _, l := range z.Links {
			registers = registers || l.RegistrationEnabled
		}
		if !registers {
			continue
		}
		if z.Registration == nil {
			z.Registration = &Registration{TTL: defaultRegistrationTTL}
		}
		reg := z.Registration
		switch {
		case cfg.Server.DataDir == "":
			r.errorf(key, "zone %s registers names (a registration block or a registrationEnabled link), and registrations are kept in server.dataDir: set server.dataDir", z.Name)
		case z.Secondary():
			r.errorf(key+".primaries", "zone %s registers names but is a secondary zone: registrations are made on its primary", z.Name)
		}
		if reg.TTL <= 0 {
			r.errorf(key+".registration.ttl", "must be above 0")
		}
		if reg.ExpireAfter < 0 {
			r.errorf(key+".registration.expireAfter", "must not be negative")
		}
		for j, k := range reg.TSIGKeys {
			reg.TSIGKeys[j] = keys.ref(r, fmt.Sprintf("%s.registration.tsigKeys[%d]", key, j), k)
		}
		if reg.Primary != "" || reg.PrimaryKey != "" {
			r.errorf(key+".registration.primary", "replica mode (forwarding updates to a primary) is not in this build: leave primary and primaryKey out and send updates to the privdns that holds the zone")
		}
	}
}
