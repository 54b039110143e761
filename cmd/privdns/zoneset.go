package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/datadir"
	"github.com/privdns/privdns/zones/registration"
	"github.com/privdns/privdns/zones/secondary"
	"github.com/privdns/privdns/zones/xfr"
)

// zoneSet is what a server keeps of its zones from one load to the next
// (R12): the secondaries following their primaries, the served data and
// IXFR history of the zones with a transfer block, the dataDir and the
// NOTIFY sender. A reload that leaves a secondary zone as it was keeps its
// data and its refresh timers; one that changes a zone with a transfer
// block raises its served serial and tells its secondaries.
type zoneSet struct {
	log     *slog.Logger
	reg     prometheus.Registerer
	metrics *xfr.Metrics
	changed func() // a zone's data changed under the View: drop what was kept of it

	ctx    context.Context // ends at close: secondaries and NOTIFY retries stop
	cancel context.CancelFunc
	wg     sync.WaitGroup // secondaries running

	// Guarded by the server's mu (loads are serialised there), but for
	// cur, which secondaries read when their data changes.
	store      *datadir.Store
	secs       map[string]*followed   // by zone name
	regs       map[string]*registered // registration zones, by name
	updates    *prometheus.CounterVec // privdns_updates_total{zone,result}
	regGauge   *prometheus.GaugeVec   // privdns_registrations{zone}
	served     map[string]*zones.Zone // zones with a transfer block: what is served
	hist       map[string]*xfr.History
	notifier   atomic.Pointer[xfr.Notifier] // read by secondaries too
	notifyFrom netip.Addr
	held       map[string]bool // zones of the current load
	cur        atomic.Pointer[zoneConfig]
}

// zoneConfig is what the current load says of the zones, for callbacks of
// secondaries kept across loads.
type zoneConfig struct {
	transfers map[string]*config.Transfer // by zone name
	keys      map[string]*xfr.Key
	hist      map[string]*xfr.History // of the zones with a transfer block
}

// registered is one registration zone's Registry and its expiry loop.
type registered struct {
	reg    *registration.Registry
	dir    string // the dataDir its journal is in
	cancel context.CancelFunc
	done   chan struct{}
}

// followed is one running secondary.
type followed struct {
	sec    *secondary.Secondary
	ident  string // primaries, key and dataDir: what a reload must keep to keep it
	cancel context.CancelFunc
	done   chan struct{}
}

func newZoneSet(log *slog.Logger, reg prometheus.Registerer, changed func()) (*zoneSet, error) {
	m, err := xfr.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	updates := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "privdns", Name: "updates_total",
		Help: "DNS UPDATEs answered (R13), by zone (\"\" for zones privdns does not hold) and rcode."}, []string{"zone", "result"})
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "privdns", Name: "registrations",
		Help: "Names registered by UPDATE in a zone (R13)."}, []string{"zone"})
	for _, c := range []prometheus.Collector{updates, gauge} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &zoneSet{log: log, reg: reg, metrics: m, changed: changed, ctx: ctx, cancel: cancel, updates: updates, regGauge: gauge,
		secs: map[string]*followed{}, regs: map[string]*registered{}, served: map[string]*zones.Zone{}, hist: map[string]*xfr.History{}}, nil
}

// zoneTxn is one load's zones, built but not yet in effect.
type zoneTxn struct {
	zs        *zoneSet
	cfg       *config.Config
	store     *datadir.Store
	sources   []resolver.ZoneSource // by index in cfg.Zones, for the View's links
	authority *dnsserver.Authority
	start     map[string]*followed    // new secondaries, to run at commit
	newRegs   map[string]*registered  // new registries, to run at commit
	reloads   map[string]*config.Zone // kept registries, given the load's data at commit
	served    map[string]*zones.Zone  // zones with a transfer block
	notify    []string                // zones whose secondaries get a NOTIFY at commit
	saves     map[string]*zones.Zone  // served data to keep in dataDir
	warnings  []string
	notifier  *xfr.Notifier // non-nil: replaces the current one
	keys      map[string]*xfr.Key
}

// prepare builds cfg's zones: nothing changes until commit, and abort
// undoes what prepare started.
func (zs *zoneSet) prepare(cfg *config.Config) (*zoneTxn, error) {
	t := &zoneTxn{zs: zs, cfg: cfg, sources: make([]resolver.ZoneSource, len(cfg.Zones)), start: map[string]*followed{},
		newRegs: map[string]*registered{}, reloads: map[string]*config.Zone{},
		served: map[string]*zones.Zone{}, saves: map[string]*zones.Zone{}, keys: map[string]*xfr.Key{}}
	for _, k := range cfg.TSIGKeys {
		key, err := xfr.NewKey(k.Name, k.Algorithm, k.Secret)
		if err != nil {
			return nil, fmt.Errorf("tsigKeys %s: %w", k.Name, err)
		}
		t.keys[key.Name] = key
	}
	var ring []*xfr.Key
	for _, k := range t.keys {
		ring = append(ring, k)
	}
	t.authority = &dnsserver.Authority{Keys: xfr.NewKeyring(ring...), Zones: map[string]*dnsserver.AuthZone{},
		Updated: func(zone string, rcode int) {
			zs.updates.WithLabelValues(zone, dns.RcodeToString[rcode]).Inc()
			if r := t.authority.Zones[zone]; r != nil && r.Registry != nil {
				zs.regGauge.WithLabelValues(zone).Set(float64(r.Registry.Registrations()))
			}
		}}
	t.store = zs.store
	if dir := cfg.Server.DataDir; dir == "" {
		t.store = nil
	} else if zs.store == nil || zs.store.Dir() != dir {
		s, err := datadir.Open(dir, zs.log)
		if err != nil {
			return nil, fmt.Errorf("server.dataDir: %w", err)
		}
		t.store = s
	}
	for i := range cfg.Zones {
		if err := t.add(i, &cfg.Zones[i]); err != nil {
			t.abort()
			return nil, fmt.Errorf("zone %s: %w", cfg.Zones[i].Name, err)
		}
	}
	if from := notifySource(cfg); from != zs.notifyFrom || zs.notifier.Load() == nil {
		t.notifier = xfr.NewNotifier(xfr.NotifierOptions{Source: from, Logger: zs.log})
	}
	return t, nil
}

// add builds one zone: its data source, its transfer block and, for a
// secondary zone, the secondary (kept from the last load when nothing it
// depends on changed).
func (t *zoneTxn) add(i int, z *config.Zone) error {
	az := &dnsserver.AuthZone{}
	az.Linked, az.Registering, az.Keys = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, l := range z.Links {
		az.Linked[l.Network] = true
		if l.RegistrationEnabled {
			az.Registering[l.Network] = true
		}
	}
	switch {
	case z.Secondary():
		f, err := t.follow(z)
		if err != nil {
			return err
		}
		az.Secondary, az.Source = f.sec, f.sec
		if z.Registration.Replica() {
			if az.Replica, err = t.replica(z, f.sec); err != nil {
				return err
			}
			az.Source = az.Replica // answers reverse names too
		}
	case z.Registration != nil:
		r, err := t.register(z)
		if err != nil {
			return err
		}
		az.Registry, az.Source = r.reg, r.reg
	default:
		data := z.Data
		if z.Transfer != nil {
			var err error
			if data, err = t.serve(z); err != nil {
				return err
			}
		}
		az.Source = fixedZone{data}
	}
	if z.Registration != nil {
		for _, k := range z.Registration.TSIGKeys {
			az.Keys[strings.ToLower(k)] = true
		}
	}
	t.sources[i] = az.Source
	if !z.Secondary() && z.Transfer == nil && z.Registration == nil {
		// Of zones sharing a name (in different networks) only one may
		// take part in transfers (config checks it): that one is held.
		if _, taken := t.authority.Zones[z.Name]; !taken {
			t.authority.Zones[z.Name] = az
		}
		return nil
	}
	if z.Transfer != nil {
		h := t.zs.hist[z.Name]
		if h == nil {
			h = xfr.NewHistory(xfr.HistoryOptions{})
		}
		t.zs.hist[z.Name] = h // kept even if the load aborts: it only grows from changes served
		az.Transfer = &xfr.Outbound{History: h, Allow: z.Transfer.Allow, Key: t.keys[z.Transfer.TSIGKey],
			Metrics: t.zs.metrics, Logger: t.zs.log}
	}
	t.authority.Zones[z.Name] = az
	return nil
}

// follow returns the secondary of z: the running one when its primaries,
// key and dataDir are the same, else a new one to start at commit.
func (t *zoneTxn) follow(z *config.Zone) (*followed, error) {
	key := t.keys[z.TSIGKey]
	ident := strings.Join(z.Primaries, ",")
	if key != nil {
		ident += " key " + key.Name + " " + key.Algorithm + " " + key.Secret
	}
	if t.store != nil {
		ident += " dataDir " + t.store.Dir()
	}
	if f := t.zs.secs[z.Name]; f != nil && f.ident == ident {
		return f, nil
	}
	if f := t.start[z.Name]; f != nil {
		return f, nil
	}
	name := z.Name
	opts := secondary.Options{Zone: name, Primaries: z.Primaries, Key: key, Store: t.store,
		Logger: t.zs.log, Registerer: t.zs.reg, // it names its zone in every line
		OnChange: func(data *zones.Zone) { t.zs.secondaryChanged(name, data) }}
	if z.Transfer != nil {
		opts.History = t.zs.hist[name]
		if opts.History == nil {
			opts.History = xfr.NewHistory(xfr.HistoryOptions{})
			t.zs.hist[name] = opts.History
		}
	}
	sec, err := secondary.New(opts)
	if err != nil {
		return nil, err
	}
	f := &followed{sec: sec, ident: ident, done: make(chan struct{})}
	t.start[name] = f
	return f, nil
}

// register returns the Registry of a registration zone: the running one
// (given the load's data at commit), or a new one replaying its journal.
func (t *zoneTxn) register(z *config.Zone) (*registered, error) {
	if r := t.zs.regs[z.Name]; r != nil && t.store != nil && r.dir == t.store.Dir() {
		t.reloads[z.Name] = z
		return r, nil
	}
	if r := t.newRegs[z.Name]; r != nil {
		return r, nil
	}
	if t.store == nil {
		return nil, errors.New("registrations need server.dataDir") // config checks it
	}
	j, err := t.store.OpenJournal(z.Name)
	if err != nil {
		return nil, fmt.Errorf("registration journal: %w", err)
	}
	name := z.Name
	reg, err := registration.New(registration.Options{Manual: z.Data, Settings: registrationSettings(z), Journal: j,
		Logger:   t.zs.log.With("zone", strings.TrimSuffix(name, ".")),
		OnChange: func(old, new *zones.Zone) { t.zs.registrationChanged(name, old, new) }})
	if err != nil {
		j.Close()
		return nil, fmt.Errorf("registrations: %w", err)
	}
	r := &registered{reg: reg, dir: t.store.Dir(), done: make(chan struct{})}
	t.newRegs[name] = r
	return r, nil
}

// replica returns the forwarder of a replica zone, whose copy is sec.
func (t *zoneTxn) replica(z *config.Zone, sec *secondary.Secondary) (*registration.Replica, error) {
	return registration.NewReplica(registration.ReplicaOptions{Zone: z.Name, Primary: z.Registration.Primary,
		Key: t.keys[z.Registration.PrimaryKey], Settings: registrationSettings(z), Copy: sec.Current, Refresh: func(ctx context.Context) { sec.Sync(ctx) }, //nolint:errcheck // bounded by ctx; the answer goes out either way
		Logger: t.zs.log.With("zone", strings.TrimSuffix(z.Name, "."))})
}

func registrationSettings(z *config.Zone) registration.Settings {
	return registration.Settings{TTL: z.Registration.TTL, ExpireAfter: z.Registration.ExpireAfter, Keys: z.Registration.TSIGKeys,
		ReplicaKeys: z.Registration.ReplicaKeys}
}

// registrationChanged is told by a Registry that its data changed (an
// update, an expiry, a reload): replies kept of the old data go, the
// history learns the change and secondaries are told.
func (zs *zoneSet) registrationChanged(name string, old, new *zones.Zone) {
	zs.changed()
	if c := zs.cur.Load(); c != nil && c.transfers[name] != nil {
		if h := c.hist[name]; h != nil && old != nil {
			h.Add(old, new)
		}
		zs.sendNotify(name, new)
	}
	zs.metrics.Serial(name, new.SOA().Serial)
}

// serve returns what a zone of a file with a transfer block is served as:
// its data with a serial that only grows (R12), from the data served
// before (in memory, or in dataDir after a restart).
func (t *zoneTxn) serve(z *config.Zone) (*zones.Zone, error) {
	prev := t.zs.served[z.Name]
	if prev == nil && t.store != nil {
		c, err := t.store.LoadZone(z.Name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			t.zs.log.Warn("the served copy in dataDir is unreadable; serving the file's serial", "zone", z.Name, "err", err)
		default:
			if prev, _, err = zones.Transferred(z.Name, c.Records); err != nil {
				t.zs.log.Warn("the served copy in dataDir is unreadable; serving the file's serial", "zone", z.Name, "err", err)
				prev = nil
			}
		}
	}
	served, warning := xfr.NextServed(prev, z.Data)
	if warning != "" {
		t.warnings = append(t.warnings, warning)
	}
	t.served[z.Name] = served
	if prev == nil || prev.SOA().Serial != served.SOA().Serial {
		t.notify = append(t.notify, z.Name)
		if t.store != nil {
			t.saves[z.Name] = served
		}
	} else if t.zs.served[z.Name] == nil {
		t.notify = append(t.notify, z.Name) // at start: secondaries learn privdns is back
	}
	if prev != nil && prev.SOA().Serial != served.SOA().Serial {
		if h := t.zs.hist[z.Name]; h != nil {
			h.Add(prev, served)
		} else {
			h = xfr.NewHistory(xfr.HistoryOptions{})
			h.Add(prev, served)
			t.zs.hist[z.Name] = h
		}
	}
	return served, nil
}

// abort forgets the secondaries and registries prepare made; none was running.
func (t *zoneTxn) abort() {
	for _, r := range t.newRegs {
		r.reg.Close()
	}
	for name := range t.start {
		if t.zs.secs[name] == nil {
			t.zs.metrics.Forget(name)
		}
	}
}

// commit puts the load's zones in effect: new secondaries start, those the
// load dropped or replaced stop, served data is kept in dataDir and
// secondaries of changed zones are sent a NOTIFY. The server's mu is held.
func (t *zoneTxn) commit() {
	zs := t.zs
	for _, w := range t.warnings {
		zs.log.Warn("zone serial", "warning", w)
	}
	transfers := map[string]*config.Transfer{}
	for i := range t.cfg.Zones {
		if z := &t.cfg.Zones[i]; z.Transfer != nil {
			transfers[z.Name] = z.Transfer
		}
	}
	hist := map[string]*xfr.History{}
	for name := range transfers {
		hist[name] = zs.hist[name]
	}
	zs.cur.Store(&zoneConfig{transfers: transfers, keys: t.keys, hist: hist})
	for name, r := range zs.regs {
		if t.newRegs[name] != nil || t.authority.Zones[name] == nil || t.authority.Zones[name].Registry != r.reg {
			r.cancel()
			<-r.done
			r.reg.Close()
			delete(zs.regs, name)
			zs.regGauge.DeleteLabelValues(name)
		}
	}
	for name, z := range t.reloads {
		if warning, err := zs.regs[name].reg.Reload(z.Data, registrationSettings(z)); err != nil {
			zs.log.Error("the reloaded zone data could not be put under its registrations; the previous data keeps serving", "zone", name, "err", err)
		} else if warning != "" {
			zs.log.Warn("zone serial", "warning", warning)
		}
	}
	for name, r := range t.newRegs {
		r.cancel = zs.goRun(r.reg.Run, r.done)
		zs.regs[name] = r
	}
	for name, r := range zs.regs {
		zs.regGauge.WithLabelValues(name).Set(float64(r.reg.Registrations()))
		zs.metrics.Serial(name, r.reg.Current().SOA().Serial)
	}
	for name, f := range zs.secs {
		if t.start[name] != nil || t.authority.Zones[name] == nil || t.authority.Zones[name].Secondary != f.sec {
			f.cancel()
			<-f.done
			delete(zs.secs, name)
		}
	}
	for name, f := range t.start {
		f.cancel = zs.goRun(f.sec.Run, f.done)
		zs.secs[name] = f
	}
	for name := range zs.served {
		if t.served[name] == nil {
			delete(zs.served, name)
		}
	}
	held := map[string]bool{}
	for i := range t.cfg.Zones {
		z := &t.cfg.Zones[i]
		held[z.Name] = true
		if !z.Secondary() && z.Registration == nil && t.served[z.Name] == nil {
			zs.metrics.Serial(z.Name, z.Data.SOA().Serial)
		}
	}
	for name := range zs.held {
		if !held[name] {
			zs.metrics.Forget(name)
		}
	}
	zs.held = held
	for name := range zs.hist {
		if _, ok := transfers[name]; !ok {
			delete(zs.hist, name)
		}
	}
	for name, z := range t.served {
		zs.served[name] = z
		zs.metrics.Serial(name, z.SOA().Serial)
	}
	for name, z := range t.saves {
		if err := t.store.SaveZone(name, datadir.ZoneCopy{Zone: name, Serial: z.SOA().Serial, Records: z.Records(), Checked: time.Now()}); err != nil {
			zs.log.Warn("keeping the served serial in dataDir failed; a restart may serve a lower one", "zone", name, "err", err)
		}
	}
	zs.store = t.store
	if t.notifier != nil {
		// The old sender's retries go on from the old address until
		// superseded or done; the new one sends from the new address.
		zs.notifier.Store(t.notifier)
		zs.notifyFrom = notifySource(t.cfg)
	}
	for _, name := range t.notify {
		zs.sendNotify(name, t.served[name])
	}
}

// goRun runs run in a goroutine of its own until the returned cancel is
// called or the set closes; done is closed when run has returned.
func (zs *zoneSet) goRun(run func(context.Context), done chan struct{}) context.CancelFunc {
	ctx, cancel := context.WithCancel(zs.ctx)
	zs.wg.Add(1)
	go func() {
		defer zs.wg.Done()
		defer close(done)
		run(ctx)
	}()
	return cancel
}

// secondaryChanged is told by a secondary that its data changed: what was
// kept of the old data goes, and the zone's own secondaries are told.
func (zs *zoneSet) secondaryChanged(name string, data *zones.Zone) {
	zs.changed()
	if data != nil {
		zs.sendNotify(name, data)
	}
}

// sendNotify sends a NOTIFY for zone's data to its transfer.notify
// targets, in the background.
func (zs *zoneSet) sendNotify(name string, data *zones.Zone) {
	c := zs.cur.Load()
	if c == nil || data == nil {
		return
	}
	tr, n := c.transfers[name], zs.notifier.Load()
	if tr == nil || len(tr.Notify) == 0 || n == nil {
		return
	}
	n.Notify(zs.ctx, name, data.SOA(), tr.Notify, c.keys[tr.TSIGKey])
}

// close stops every secondary, registry and NOTIFY retry and waits for them.
func (zs *zoneSet) close() {
	zs.cancel()
	zs.wg.Wait()
	for _, r := range zs.regs {
		r.reg.Close()
	}
	if n := zs.notifier.Load(); n != nil {
		n.Wait()
	}
}

// notifySource is the address NOTIFY leaves from (R12): the first listener
// that names a specific address, since secondaries match the source
// against their primaries; none when every listener is a wildcard.
func notifySource(cfg *config.Config) netip.Addr {
	for _, l := range cfg.Server.Listeners {
		if ap, err := netip.ParseAddrPort(l.Address); err == nil && !ap.Addr().IsUnspecified() {
			return ap.Addr().Unmap()
		}
	}
	return netip.Addr{}
}

// fixedZone is the ZoneSource of a zone whose data is fixed for a load.
type fixedZone struct{ z *zones.Zone }

func (f fixedZone) Name() string         { return f.z.Name() }
func (f fixedZone) Current() *zones.Zone { return f.z }
