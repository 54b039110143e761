package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/resolver/listen"
	"github.com/privdns/privdns/resolver/ratelimit"
)

// Reload loads the configuration file again and swaps it in as a whole.
// If anything is wrong the running configuration keeps serving; the error
// is logged (every problem with its place) and counted.
func (s *server) Reload(reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is closed")
	}
	err := s.reload()
	settleMemory()
	s.metrics.Reload(err == nil, time.Now())
	if err != nil {
		var problems config.Errors
		if errors.As(err, &problems) {
			for _, p := range problems {
				s.log.Error("configuration problem", "problem", p.Error())
			}
		}
		s.log.Error("reload failed; the running configuration keeps serving", "trigger", reason, "err", err)
		return err
	}
	s.log.Info("configuration reloaded", "trigger", reason)
	logConfig(s.log, s.cfg)
	return nil
}

func (s *server) reload() error {
	file := s.cfg.File
	// Fingerprint first: an edit landing during the load is seen as a
	// change by the watcher and loaded again.
	s.attempted = fingerprint(file)
	var cfg *config.Config
	var err error
	if file == "" {
		cfg, err = config.Default()
	} else {
		// Zones whose files are unchanged keep their data: a reload that
		// edits one file of a thousand parses one.
		cfg, err = config.Reload(file, s.cfg)
	}
	if err != nil {
		return err
	}
	if len(s.opts.Listen) > 0 {
		if err := cfg.OverrideListeners(s.opts.Listen); err != nil {
			return err // checked at start: cannot happen
		}
	}
	for _, w := range cfg.Warnings {
		s.log.Warn("configuration warning", "warning", w)
	}
	return s.apply(cfg)
}

// apply builds cfg and makes it current in one step: everything that can
// fail (building, binding new listeners and HTTP) happens first; the swap
// and the release of what the old configuration held come after.
func (s *server) apply(cfg *config.Config) error {
	c := s.cache
	if c == nil || cfg.Cache != s.cfg.Cache {
		var err error
		if c, err = cache.New(cacheOptions(cfg.Cache, s.log)); err != nil {
			return fmt.Errorf("cache: %w", err)
		}
	}
	zt, err := s.zones.prepare(cfg)
	if err != nil {
		return err
	}
	txn := s.groups.begin()
	view, err := build(cfg, deps{log: s.log, groups: txn, cache: c, observer: s.metrics.Upstreams(), sources: zt.sources})
	if err != nil {
		txn.abort()
		zt.abort()
		return err
	}
	added, err := s.bindNew(cfg)
	if err != nil {
		txn.abort()
		zt.abort()
		return err
	}
	var newHTTP *httpServer
	if cfg.Server.HTTP != s.cfg.Server.HTTP && cfg.Server.HTTP != "" {
		if newHTTP, err = s.startHTTP(cfg.Server.HTTP); err != nil {
			closeListeners(added)
			txn.abort()
			zt.abort()
			return err
		}
	}

	var newAdmin *httpServer
	if cfg.Server.Admin != s.cfg.Server.Admin && cfg.Server.Admin != "" {
		if newAdmin, err = s.startAdmin(cfg.Server.Admin); err != nil {
			if newHTTP != nil {
				newHTTP.close(context.Background())
			}
			closeListeners(added)
			txn.abort()
			zt.abort()
			return err
		}
	}

	// Commit: nothing below fails.
	s.limits.Set(limitSettings(cfg))
	s.inFlight.SetMax(cfg.Server.Limits.InFlight)
	s.engine.Swap(view)
	s.swapListeners(cfg, added)
	for _, l := range s.listeners {
		l.h.SetAuthority(zt.authority)
	}
	zt.commit()
	if cfg.Server.HTTP != s.cfg.Server.HTTP {
		if s.http != nil {
			s.http.close(context.Background())
		}
		s.http = newHTTP
	}
	if cfg.Server.Admin != s.cfg.Server.Admin {
		if s.admin != nil {
			s.admin.close(context.Background())
		}
		s.admin = newAdmin
	}
	txn.commit(closeDelay)
	if c != s.cache {
		if s.cache != nil {
			// The counters go on from the old cache's totals: a reload
			// is not a restart.
			old := s.cache.Stats()
			s.retired.Hits += old.Hits
			s.retired.Misses += old.Misses
			s.retired.StaleServed += old.StaleServed
			s.retired.Prefetches += old.Prefetches
		}
		s.cache = c
		s.metrics.ObserveCache(s.cacheStats)
	}
	s.publishStats()
	if s.opts.Level != nil && s.opts.LevelOverride == "" {
		setLevel(s.opts.Level, cfg.Server.Log.Level)
	}
	s.cfg = cfg
	return nil
}

// listenerKeys names each configured listener: its address, numbered
// among listeners with the same address (only port 0 may repeat).
func listenerKeys(cfg *config.Config) []string {
	seen := map[string]int{}
	keys := make([]string, len(cfg.Server.Listeners))
	for i, l := range cfg.Server.Listeners {
		keys[i] = l.Address + "#" + strconv.Itoa(seen[l.Address])
		seen[l.Address]++
	}
	return keys
}

func settingsFor(cfg *config.Config, l config.Listener) dnsserver.Settings {
	return dnsserver.Settings{
		Network: l.Network, Identity: cfg.Server.Identity,
		QueryLog: cfg.Server.Log.Queries, QuerySampling: cfg.Server.Log.QuerySampling,
		UpstreamBudget: cfg.Server.Limits.UpstreamQueriesPerQuery,
	}
}

// limitSettings maps server.limits and server.rateLimit onto what the
// listeners share; every load sets them.
func limitSettings(cfg *config.Config) listen.LimitSettings {
	lim, rl := cfg.Server.Limits, cfg.Server.RateLimit
	return listen.LimitSettings{
		TCPConnections: lim.TCPConnections, TCPIdle: lim.TCPIdleTimeout, TCPQueriesPerConnection: lim.TCPQueriesPerConnection,
		RateLimit: ratelimit.Settings{Enabled: rl.Enabled, QueriesPerSecond: rl.QueriesPerSecond, Burst: rl.Burst, Slip: rl.Slip, Exempt: rl.Exempt},
	}
}

// listenOptions are a new listener's options. MaxInFlight, the bound on
// its goroutines answering through the full path, leaves inFlight (the
// Handler's gate of queries waiting on upstreams, which counts every
// listener's) the limit that is reached: 4096 more than inFlight, for the
// private and cached answers running beside the waiting ones. It is sized
// when the listener is bound; the gate follows reloads.
func (s *server) listenOptions(cfg *config.Config) listen.Options {
	return listen.Options{Logger: s.log, Limits: s.limits, MaxInFlight: cfg.Server.Limits.InFlight + 4096}
}

// bindNew binds the listeners cfg has and the server has not; all or none.
func (s *server) bindNew(cfg *config.Config) (map[string]*listener, error) {
	added := map[string]*listener{}
	for i, key := range listenerKeys(cfg) {
		if s.listeners[key] != nil {
			continue
		}
		l := cfg.Server.Listeners[i]
		h := dnsserver.New(dnsserver.Options{
			Settings: settingsFor(cfg, l), Engine: s.engine, Logger: s.log, Observer: s.metrics, Limits: s.metrics,
			InFlight: s.inFlight,
		})
		ln, err := listen.Listen(l.Address, h, s.listenOptions(cfg))
		if _, port, _ := net.SplitHostPort(l.Address); errors.Is(err, syscall.EADDRINUSE) && s.closeDraining(port) {
			// Removed by an earlier reload and back before its queries
			// were done: those queries give way.
			ln, err = listen.Listen(l.Address, h, s.listenOptions(cfg))
		}
		if err != nil {
			closeListeners(added)
			return nil, &bindError{what: "listener", addr: l.Address, err: err, note: s.busyNote(l.Address, err)}
		}
		added[key] = &listener{ln: ln, h: h}
	}
	return added, nil
}

// busyNote says, for a bind error on addr, what privdns itself holds on
// that port: a listener on another address of it (a specific address and
// a wildcard on one port) is closed only after the new ones are bound.
func (s *server) busyNote(addr string, err error) string {
	_, port, _ := net.SplitHostPort(addr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		return ""
	}
	for _, l := range s.listeners {
		if _, p, _ := net.SplitHostPort(l.ln.Addr); p == port {
			return fmt.Sprintf("privdns's listener %s holds port %s; a reload binds new addresses before closing old ones, so moving a port between a specific address and a wildcard takes a restart", l.ln.Addr, port)
		}
	}
	return ""
}

// swapListeners keeps the listeners cfg still has (with its settings),
// adds the new ones and closes the rest.
func (s *server) swapListeners(cfg *config.Config, added map[string]*listener) {
	next := map[string]*listener{}
	for i, key := range listenerKeys(cfg) {
		l := s.listeners[key]
		if l == nil {
			l = added[key]
			s.log.Info("listening", "address", l.ln.Addr, "network", cfg.Server.Listeners[i].Network)
		} else {
			l.h.Configure(settingsFor(cfg, cfg.Server.Listeners[i]))
		}
		next[key] = l
	}
	var gone map[string]*listener
	for key, l := range s.listeners {
		if next[key] == nil {
			s.retired.Hits += l.h.PackedHits()
			if gone == nil {
				gone = map[string]*listener{}
			}
			gone[key] = l
			s.log.Info("closing listener", "address", l.ln.Addr)
		}
	}
	s.listeners = next
	s.drainMu.Lock()
	for _, l := range gone {
		s.draining[l] = struct{}{}
	}
	s.drainMu.Unlock()
	go func() {
		closeListeners(gone)
		s.drainMu.Lock()
		for _, l := range gone {
			delete(s.draining, l)
		}
		s.drainMu.Unlock()
	}()
}

// closeListeners shuts ls down at once, each letting its queries in flight
// finish for up to 5 s.
func closeListeners(ls map[string]*listener) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errs := make(chan error, len(ls))
	for _, l := range ls {
		go func() { errs <- l.ln.Shutdown(ctx) }()
	}
	var all []error
	for range ls {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// closeDraining closes, at once, the listeners on port that a reload
// removed and that are still finishing their queries: the port is wanted
// again. Draining listeners on other ports finish undisturbed. It reports
// whether there were any.
func (s *server) closeDraining(port string) bool {
	s.drainMu.Lock()
	var ls []*listener
	for l := range s.draining {
		if _, p, err := net.SplitHostPort(l.ln.Addr); err == nil && p == port {
			ls = append(ls, l)
		}
	}
	s.drainMu.Unlock()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, l := range ls {
		l.ln.Shutdown(ended)
	}
	return len(ls) > 0
}

// statsSource is what a scrape reads cache statistics from: published
// whole by every load, so that a scrape never waits on a reload or on
// Close (which hold s.mu, Close while it waits for the HTTP server's
// requests, scrapes among them, to end).
type statsSource struct {
	cache    *cache.Cache
	handlers []*dnsserver.Handler
	retired  cache.Stats
}

// publishStats makes the current cache, listeners and retired counts the
// ones scrapes read; s.mu is held.
func (s *server) publishStats() {
	src := &statsSource{cache: s.cache, retired: s.retired}
	for _, l := range s.listeners {
		src.handlers = append(src.handlers, l.h)
	}
	s.stats.Store(src)
}

// cacheStats is the public cache's statistics plus the hits the listeners
// answered from ready-packed answers in front of it, counted on from what
// caches and listeners replaced by reloads had counted. It takes no lock.
func (s *server) cacheStats() cache.Stats {
	src := s.stats.Load()
	if src == nil || src.cache == nil {
		return cache.Stats{}
	}
	st := src.cache.Stats()
	for _, h := range src.handlers {
		st.Hits += h.PackedHits()
	}
	st.Hits += src.retired.Hits
	st.Misses += src.retired.Misses
	st.StaleServed += src.retired.StaleServed
	st.Prefetches += src.retired.Prefetches
	return st
}
