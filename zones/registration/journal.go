package registration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/datadir"
)

// record is one journal record or the snapshot: the served serial after
// it, the digest of the data that serial was given for, and the names it
// sets. In a snapshot Names is every registered name; in a record, the
// names a change touched, a name without records being one it removed.
type record struct {
	V      int         `json:"v"`
	Serial uint32      `json:"serial"`
	Digest string      `json:"digest,omitempty"`
	Names  []nameState `json:"names,omitempty"`
}

// nameState is one name as journaled. Times are kept so that expiry goes
// on across restarts.
type nameState struct {
	Name    string    `json:"name"`
	Addr    string    `json:"addr,omitempty"` // owner: a client
	Key     string    `json:"key,omitempty"`  // owner: a key
	Since   time.Time `json:"since,omitzero"`
	Renewed time.Time `json:"renewed,omitzero"`
	RRs     [][]byte  `json:"rrs,omitempty"` // wire form, TTL 0
}

const recordVersion = 1

var errRecord = errors.New("registration: bad journal record")

// digest names the manual data and the served TTL: when either changes,
// the served data changes and so must the serial, across restarts too.
func digest(manual *zones.Zone, ttl uint32) string {
	recs := manual.Records()
	keys := make([]string, 0, len(recs))
	for _, rr := range recs[1:] {
		keys = append(keys, rr.String())
	}
	slices.Sort(keys)
	soa := *manual.SOA()
	soa.Serial = 0
	h := sha256.New()
	fmt.Fprintf(h, "ttl %d\n%s\n", ttl, soa.String())
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// encodeName is the journal form of a name's entry (nil: removed).
func encodeName(name string, e *entry) nameState {
	ns := nameState{Name: name}
	if e == nil {
		return ns
	}
	if e.owner.key != "" {
		ns.Key = e.owner.key
	} else {
		ns.Addr = e.owner.addr.String()
	}
	ns.Since, ns.Renewed = e.since.UTC(), e.renewed.UTC()
	for _, rr := range e.rrs {
		buf := make([]byte, dns.Len(rr))
		n, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			continue // not reached: records were packed when the update came
		}
		ns.RRs = append(ns.RRs, buf[:n])
	}
	return ns
}

// decodeName is encodeName undone; a nil entry is a removed name.
func decodeName(ns nameState) (string, *entry, error) {
	name := dns.CanonicalName(ns.Name)
	if len(ns.RRs) == 0 {
		return name, nil, nil
	}
	e := &entry{since: ns.Since, renewed: ns.Renewed}
	switch {
	case ns.Key != "":
		e.owner = Key(ns.Key)
	default:
		a, err := netip.ParseAddr(ns.Addr)
		if err != nil {
			return "", nil, fmt.Errorf("%w: name %s: owner %q", errRecord, name, ns.Addr)
		}
		e.owner = Client(a)
	}
	for _, w := range ns.RRs {
		rr, _, err := dns.UnpackRR(w, 0)
		if err != nil {
			return "", nil, fmt.Errorf("%w: name %s: %v", errRecord, name, err)
		}
		rr.Header().Name = name
		e.rrs = append(e.rrs, rr)
	}
	return name, e, nil
}

// appendRecord journals one change, which makes next from what is
// served; a nil journal (tests) keeps nothing. The caller holds mu.
func (r *Registry) appendRecord(rec record, next *state) error {
	if r.journal == nil {
		return nil
	}
	rec.V = recordVersion
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := r.journal.Append(data); err != nil {
		if !errors.Is(err, datadir.ErrMoved) {
			return err
		}
		// The journal's files were removed or replaced: write them
		// again from what is served, which holds every record so far.
		r.log.Warn("registration: the journal's files in dataDir were removed or replaced; writing them again from the registrations held", "err", err)
		if cerr := r.compactTo(r.cur.Load()); cerr != nil {
			return fmt.Errorf("%w; writing them again: %v", err, cerr)
		}
		if _, err := r.journal.Append(data); err != nil {
			return err
		}
	}
	r.appended++
	if r.appended >= r.compactEvery {
		r.compact(next)
	}
	return nil
}

// compact replaces the journal by a snapshot of st. A failure is logged
// and harmless: the records are still in the journal.
func (r *Registry) compact(st *state) {
	if r.journal == nil {
		return
	}
	if err := r.compactTo(st); err != nil {
		r.log.Warn("registration: journal compaction failed", "err", err)
	}
}

// compactTo is compact, failing. The caller holds mu (or is New).
func (r *Registry) compactTo(st *state) error {
	rec := record{V: recordVersion, Serial: st.serial, Digest: st.digest}
	for _, name := range sortedNames(st.names) {
		rec.Names = append(rec.Names, encodeName(name, st.names[name]))
	}
	data, err := json.Marshal(rec)
	if err == nil {
		err = r.journal.Compact(data)
	}
	if err != nil {
		return err
	}
	r.appended = 0
	return nil
}

// replayed is what the journal held.
type replayed struct {
	found  bool // a snapshot or a record: the serial and digest are known
	serial uint32
	digest string
	names  map[string]*entry
}

// replay reads the snapshot and records that each gives (a journal's
// Replay, or a read-only ReadJournal); nil gives none.
func replay(each func(func(datadir.Record) error) error) (replayed, error) {
	out := replayed{names: map[string]*entry{}}
	if each == nil {
		return out, nil
	}
	err := each(func(jr datadir.Record) error {
		var rec record
		if err := json.Unmarshal(jr.Data, &rec); err != nil {
			return fmt.Errorf("%w %d: %v", errRecord, jr.Seq, err)
		}
		if rec.V != recordVersion {
			return fmt.Errorf("%w %d: version %s", errRecord, jr.Seq, strconv.Itoa(rec.V))
		}
		if jr.Snapshot {
			clear(out.names)
		}
		out.found = true
		out.serial = rec.Serial
		if rec.Digest != "" {
			out.digest = rec.Digest
		}
		for _, ns := range rec.Names {
			name, e, err := decodeName(ns)
			if err != nil {
				return err
			}
			if e == nil {
				delete(out.names, name)
			} else {
				out.names[name] = e
			}
		}
		return nil
	})
	return out, err
}
