package registration

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/datadir"
	"github.com/privdns/privdns/zones/xfr"
)

// Settings are the zone's registration block (SPEC §9) that a reload may
// change.
type Settings struct {
	// TTL is registration.ttl, the TTL of every registered record
	// whatever the update said; zero means Azure's 10s.
	TTL time.Duration
	// ExpireAfter is registration.expireAfter: an address registration
	// not renewed within it is removed. Zero: never. Key registrations
	// never expire.
	ExpireAfter time.Duration
	// Keys are registration.tsigKeys, the key names whose signed updates
	// may register (any case). Update refuses other keys.
	Keys []string
	// ReplicaKeys, when set, are the keys (of Keys) whose forwards of a
	// client's registration (a replica's, R13) are taken as the client's
	// own; empty: every key of Keys is trusted to vouch for clients so.
	ReplicaKeys []string
}

// Options configure a Registry. Manual is required.
type Options struct {
	// Manual is the zone's file and inline records (zones.Load): its
	// names always win over registrations.
	Manual *zones.Zone
	Settings
	// Journal keeps accepted updates across restarts (server.dataDir,
	// datadir.Store.OpenJournal). SPEC R13 requires one; nil keeps
	// registrations in memory only, for tests.
	Journal *datadir.Journal
	// Now is the clock of registration times and expiry; default time.Now.
	Now func() time.Time
	// After is Run's timer; default time.After.
	After func(time.Duration) <-chan time.Time
	// Logger defaults to discarding.
	Logger *slog.Logger
	// OnChange, when set, is called after each new version of the zone
	// is swapped in, with the one before (to NOTIFY secondaries and feed
	// an xfr.History). Calls come in order, under the Registry's lock: it
	// must not block for long nor call back into the Registry.
	OnChange func(old, new *zones.Zone)
	// CompactEvery is how many journal records may pile up before the
	// journal is compacted into a snapshot; default 1024.
	CompactEvery int
}

// Registry is the registrations of one zone. Its methods are safe for
// concurrent use.
type Registry struct {
	checker      // apex; wire is guarded by mu
	journal      *datadir.Journal
	now          func() time.Time
	after        func(time.Duration) <-chan time.Time
	log          *slog.Logger
	onChange     func(old, new *zones.Zone)
	compactEvery int

	cur  atomic.Pointer[state]
	wake chan struct{} // publish → Run: the next expiry may have moved

	readOnly bool // ReadOnly: Update answers SERVFAIL

	mu       sync.Mutex // serialises changes
	set      Settings
	ttl      uint32          // set.TTL in seconds
	keys     map[string]bool // set.Keys, canonical
	replicas map[string]bool // set.ReplicaKeys, canonical; nil: every key
	appended int             // journal records since the last compaction
}

// ErrNoManual is returned by New without a manual zone.
var ErrNoManual = errors.New("registration: no manual zone")

// New replays the journal (the snapshot and the records after it), drops
// what expired while privdns was down and what the manual data now holds,
// gives the served serial (kept in the journal, grown if the data changed
// meanwhile), and compacts the journal.
func New(opts Options) (*Registry, error) {
	var each func(func(datadir.Record) error) error
	if opts.Journal != nil {
		each = opts.Journal.Replay
	}
	return open(opts, each)
}

// ReadOnly is the Registry a server on store would serve now, read from
// the zone's journal without writing anything there (no compaction, a
// torn tail left for the server to cut), so that privdns explain can run
// beside the server: its Update answers SERVFAIL and opts.Journal is not
// used. A zone that never had a registration reads as none.
func ReadOnly(store *datadir.Store, opts Options) (*Registry, error) {
	if opts.Manual == nil {
		return nil, ErrNoManual
	}
	opts.Journal = nil
	name := opts.Manual.Name()
	r, err := open(opts, func(fn func(datadir.Record) error) error { return store.ReadJournal(name, fn) })
	if err != nil {
		return nil, err
	}
	r.readOnly = true
	return r, nil
}

// open is New with the journal's records from each.
func open(opts Options, each func(func(datadir.Record) error) error) (*Registry, error) {
	if opts.Manual == nil {
		return nil, ErrNoManual
	}
	r := &Registry{
		checker: newChecker(opts.Manual.Name()), journal: opts.Journal, now: opts.Now, after: opts.After,
		log: opts.Logger, onChange: opts.OnChange, compactEvery: opts.CompactEvery,
		wake: make(chan struct{}, 1),
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.after == nil {
		r.after = time.After
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("zone", r.apex)
	if r.compactEvery <= 0 {
		r.compactEvery = 1024
	}
	r.configure(opts.Settings)
	old, err := replay(each)
	if err != nil {
		return nil, fmt.Errorf("registration %s: %w", r.apex, err)
	}
	names := old.names
	changed := r.dropManual(names, opts.Manual) > 0
	now := r.now()
	for name, e := range names {
		if t := e.expires(r.set.ExpireAfter); !t.IsZero() && !now.Before(t) {
			r.log.Info("registration expired while privdns was stopped", "name", name, "by", e.owner.String())
			delete(names, name)
			changed = true
		}
	}
	st := &state{manual: opts.Manual, names: names, digest: digest(opts.Manual, r.ttl)}
	st.serial = servedSerial(old.found, old.serial, opts.Manual.SOA().Serial, changed || old.digest != st.digest)
	if err := r.finish(st); err != nil {
		return nil, err
	}
	r.cur.Store(st)
	r.compact(st)
	return r, nil
}

// servedSerial is the serial to serve given the one served before (if
// any), the manual data's, and whether the data changed: the file's when
// it is ahead (RFC 1982), else the one before, one higher on a change.
func servedSerial(served bool, was, file uint32, changed bool) uint32 {
	switch {
	case !served || xfr.SerialLess(was, file):
		return file
	case changed:
		return was + 1
	}
	return was
}

// configure takes in the settings; the caller holds mu (or is New).
func (r *Registry) configure(s Settings) {
	if s.TTL <= 0 {
		s.TTL = 10 * time.Second
	}
	r.set = s
	r.ttl = uint32(min(s.TTL/time.Second, 1<<31-1))
	r.keys = map[string]bool{}
	for _, k := range s.Keys {
		r.keys[dns.CanonicalName(k)] = true
	}
	r.replicas = nil
	for _, k := range s.ReplicaKeys {
		if r.replicas == nil {
			r.replicas = map[string]bool{}
		}
		r.replicas[dns.CanonicalName(k)] = true
	}
}

// dropManual removes the registrations at names the manual data holds
// (manual records always win) and returns how many it removed.
func (r *Registry) dropManual(names map[string]*entry, manual *zones.Zone) int {
	n := 0
	for name, e := range names {
		if holds(manual, name) {
			r.log.Warn("registration dropped: the zone's own records now hold the name", "name", name, "by", e.owner.String())
			delete(names, name)
			n++
		}
	}
	return n
}

// holds reports whether z has records at name itself (not an empty
// non-terminal, not a wildcard match).
func holds(z *zones.Zone, name string) bool {
	res := z.Lookup(name, dns.TypeANY)
	return res.Kind == zones.Answer && !res.Wildcard
}

// finish builds st's zone, reverse map and next expiry.
func (r *Registry) finish(st *state) error {
	z, ptr, err := build(st.manual, st.serial, st.names, r.ttl)
	if err != nil {
		return err
	}
	st.zone, st.ptr = z, ptr
	st.nextExpiry = nextExpiry(st.names, r.set.ExpireAfter)
	return nil
}

// publish swaps next in and tells OnChange when the served serial moved.
// The caller holds mu.
func (r *Registry) publish(next *state) {
	prev := r.cur.Swap(next)
	select {
	case r.wake <- struct{}{}:
	default:
	}
	if r.onChange != nil && prev.serial != next.serial {
		r.onChange(prev.zone, next.zone)
	}
}

// Name is the zone's apex, a lower-case FQDN.
func (r *Registry) Name() string { return r.apex }

// Current is the zone to answer from: the manual data and the registered
// records, at the served serial. Lock-free and allocation-free; never nil.
func (r *Registry) Current() *zones.Zone { return r.cur.Load().zone }

// Registrations is the number of registered names (the
// privdns_registrations gauge).
func (r *Registry) Registrations() int { return len(r.cur.Load().names) }

// PTR answers a reverse name (in-addr.arpa or ip6.arpa, any case) of a
// registered address with a PTR to every name registered at that address,
// at registration.ttl, or nil. The records are shared: do not modify them
// (their owner is the lower-case reverse name). A lower-case FQDN is
// looked up without allocating.
func (r *Registry) PTR(qname string) []dns.RR {
	ptr := r.cur.Load().ptr
	if len(ptr) == 0 {
		return nil
	}
	if rrs, ok := ptr[qname]; ok {
		return rrs
	}
	return ptr[dns.CanonicalName(qname)]
}

// Registered reports whether a registration holds name (a lower-case
// FQDN; other spellings are not found): its records were registered by
// UPDATE, not taken from the zone's own data. Lock-free and
// allocation-free, for the query log's path "registered".
func (r *Registry) Registered(name string) bool {
	_, ok := r.cur.Load().names[name]
	return ok
}

// Registration is what explain says about a registered name.
type Registration struct {
	Name    string
	By      Principal
	Since   time.Time // first registered
	Renewed time.Time // last accepted update that added to it
	Expires time.Time // zero: never (a key's registration, or expireAfter 0)
	Records []dns.RR  // as served; do not modify
}

// Lookup tells who registered name (any case) and until when, or false
// when no registration holds it.
func (r *Registry) Lookup(name string) (Registration, bool) {
	r.mu.Lock()
	expireAfter := r.set.ExpireAfter
	r.mu.Unlock()
	st := r.cur.Load()
	name = dns.CanonicalName(name)
	e := st.names[name]
	if e == nil {
		return Registration{}, false
	}
	reg := Registration{Name: name, By: e.owner, Since: e.since, Renewed: e.renewed, Expires: e.expires(expireAfter)}
	res := st.zone.Lookup(name, dns.TypeANY)
	if res.Kind == zones.Answer {
		reg.Records = res.Records
	}
	return reg, true
}

// Reload puts new manual data and settings in place, keeping the
// registrations but those at names the manual data now holds. When the
// served data changes the serial grows; warning is set when the manual
// records changed but the file's serial is not above the served one (SPEC
// R12: log it). On an error (the journal, or a zone that does not build)
// nothing changed.
func (r *Registry) Reload(manual *zones.Zone, s Settings) (warning string, err error) {
	if manual == nil {
		return "", ErrNoManual
	}
	if manual.Name() != r.apex {
		return "", fmt.Errorf("registration %s: reload with zone %s", r.apex, manual.Name())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	prevSet := r.set
	r.configure(s)
	prev := r.cur.Load()
	next := &state{manual: manual, names: clone(prev.names), digest: digest(manual, r.ttl)}
	var gone []nameState
	for _, name := range sortedNames(prev.names) {
		if holds(manual, name) {
			gone = append(gone, nameState{Name: name})
		}
	}
	r.dropManual(next.names, manual)
	changed := len(gone) > 0 || next.digest != prev.digest
	next.serial = servedSerial(true, prev.serial, manual.SOA().Serial, changed)
	if !xfr.SerialLess(prev.serial, manual.SOA().Serial) && digest(manual, 0) != digest(prev.manual, 0) {
		warning = fmt.Sprintf("zone %s changed but its serial %d is not above the served serial %d: serving it with serial %d (raise the serial in the file)",
			r.apex, manual.SOA().Serial, prev.serial, next.serial)
	}
	err = r.finish(next)
	if err == nil && (changed || next.serial != prev.serial) {
		err = r.appendRecord(record{Serial: next.serial, Digest: next.digest, Names: gone}, next)
	}
	if err != nil {
		r.configure(prevSet)
		return "", fmt.Errorf("registration %s: reload: %w", r.apex, err)
	}
	r.publish(next)
	return warning, nil
}

func clone(m map[string]*entry) map[string]*entry {
	out := make(map[string]*entry, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Close closes the journal.
func (r *Registry) Close() error {
	if r.journal == nil {
		return nil
	}
	return r.journal.Close()
}
