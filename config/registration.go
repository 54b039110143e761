package config

import (
	"fmt"
	"slices"
	"strings"
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
	// ReplicaKeys, of TSIGKeys, are the keys of this zone's replicas: only
	// their forwards of a client's registration count as the client's own.
	// Empty: every key of TSIGKeys is trusted so (SPEC R13).
	ReplicaKeys []string
	// Primary (host:port) and PrimaryKey (a TSIGKey.Name) are replica
	// mode: accepted updates are forwarded to Primary signed with
	// PrimaryKey, and the zone is a secondary of Primary (its primaries
	// and tsigKey default to them).
	Primary, PrimaryKey string
}

// Replica reports whether the block is replica mode.
func (r *Registration) Replica() bool { return r != nil && r.Primary != "" }

// defaultRegistrationTTL is Azure's TTL of auto-registered records.
const defaultRegistrationTTL = 10 * time.Second

// decodeRegistrations reads zones[].registration.
func decodeRegistrations(root node, cfg *Config) {
	for i, n := range root.items("zones") {
		if i >= len(cfg.Zones) || !n.has("registration") {
			continue
		}
		b := n.child("registration")
		reg := &Registration{TTL: defaultRegistrationTTL, ExpireAfter: b.duration("expireAfter"), TSIGKeys: b.strs("tsigKeys"), ReplicaKeys: b.strs("replicaKeys"),
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
	var listeners []string
	for _, l := range cfg.Server.Listeners {
		if addr, err := withPort(l.Address, "53"); err == nil {
			listeners = append(listeners, addr)
		}
	}
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
		case reg.Replica() && (z.File != "" || len(z.Records) > 0):
			r.errorf(key+".registration.primary", "zone %s is a replica: it holds the zone as a secondary of its primary, so it has no file or records of its own (remove them, or registration.primary)", z.Name)
		case z.Secondary() && !reg.Replica():
			r.errorf(key+".primaries", "zone %s registers names but is a secondary zone: registrations are made on its primary (or set registration.primary and primaryKey to forward them there)", z.Name)
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
		for j, k := range reg.ReplicaKeys {
			at := fmt.Sprintf("%s.registration.replicaKeys[%d]", key, j)
			reg.ReplicaKeys[j] = keys.ref(r, at, k)
			if _, known := keys[reg.ReplicaKeys[j]]; known && !slices.Contains(reg.TSIGKeys, reg.ReplicaKeys[j]) {
				r.errorf(at, "%s is not in registration.tsigKeys: a replica's key must be one of the keys that may register", k)
			}
		}
		validateReplica(r, key, z, keys, listeners)
	}
}

// validateReplica checks registration.primary and primaryKey (both or
// neither, and no expireAfter, which is the primary's) and makes a replica
// that names no primaries a secondary of its primary.
func validateReplica(r *report, zoneKey string, z *Zone, keys keyIndex, listeners []string) {
	reg, key := z.Registration, zoneKey+".registration"
	switch {
	case reg.Primary == "" && reg.PrimaryKey != "":
		r.errorf(key+".primaryKey", "signs the updates forwarded to registration.primary, and there is none: set primary, or remove primaryKey")
		return
	case reg.Primary == "":
		return
	case reg.PrimaryKey == "":
		r.errorf(key+".primaryKey", "required with registration.primary: forwarded updates are signed, so the primary can tell them from its clients'")
	default:
		reg.PrimaryKey = keys.ref(r, key+".primaryKey", reg.PrimaryKey)
	}
	if addr, err := withPort(strings.TrimSpace(reg.Primary), "53"); err != nil {
		r.errorf(key+".primary", "%q: %v", reg.Primary, err)
	} else {
		reg.Primary = addr
		for _, l := range listeners {
			if l == addr {
				r.errorf(key+".primary", "%s is a listener of this privdns: a replica would forward its updates to itself", addr)
			}
		}
	}
	if reg.ExpireAfter != 0 {
		r.errorf(key+".expireAfter", "a replica forwards registrations and keeps none: set expireAfter on the primary, which counts each forwarded re-registration as a renewal")
	}
	if z.File != "" || len(z.Records) > 0 {
		return // an error above
	}
	// The replica holds the zone as a secondary of its primary (unless it
	// names other primaries), its checks and transfers signed with
	// tsigKey, or else with primaryKey, which the primary knows.
	if !z.Secondary() {
		z.Primaries = []string{reg.Primary}
	} else if !slices.Contains(z.Primaries, reg.Primary) {
		r.warnf(zoneKey+".primaries", "%s: updates go to registration.primary %s, which is not among the primaries the zone is transferred from; make sure they serve the same data", strings.Join(z.Primaries, ", "), reg.Primary)
	}
	if z.TSIGKey == "" {
		z.TSIGKey = reg.PrimaryKey
	} else {
		z.TSIGKey = keys.ref(r, zoneKey+".tsigKey", z.TSIGKey)
	}
}
