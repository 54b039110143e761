package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/resolver/listen"
	"github.com/privdns/privdns/resolver/metrics"
	"github.com/privdns/privdns/resolver/missing"
	"github.com/privdns/privdns/resolver/report"
)

func newServeCommand() *cobra.Command {
	var file, level string
	var listen []string
	cmd := &cobra.Command{
		Use:   "serve [--config FILE] [--listen ADDR]...",
		Short: "Serve DNS (no FILE and no ./privdns.yaml: the embedded default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			firstLoadMemory()
			cfg, err := loadConfig(file, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := overrideListeners(cfg, listen, cmd.ErrOrStderr()); err != nil {
				return err
			}
			// Signals are caught before the listeners answer anyone: a
			// SIGHUP sent as soon as privdns serves must reload it, not
			// kill it with the default action.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			log, lv, err := newLogger(cfg.Server.Log, level, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			for _, w := range cfg.Warnings {
				log.Warn("configuration warning", "warning", w)
			}
			s, err := start(cfg, serverOptions{Log: log, Level: lv, LevelOverride: level, Listen: listen})
			settleMemory()
			if err != nil {
				log.Error("cannot start", "err", withBindHint(err))
				return exitError{1}
			}
			if err := s.watch(ctx); err != nil {
				log.Warn("watching configuration files failed; reload with SIGHUP", "err", err)
			}
			return s.run(ctx, hup)
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "configuration file (default ./privdns.yaml, else the embedded default)")
	cmd.Flags().StringVar(&level, "log-level", "", "log level: debug, info, warn or error (overrides server.log.level)")
	cmd.Flags().StringArrayVar(&listen, "listen", nil, "DNS listener address ip:port, instead of server.listeners (repeat for several)")
	return cmd
}

// run reloads on every signal from hup until ctx ends, then shuts down.
func (s *server) run(ctx context.Context, hup <-chan os.Signal) error {
	for {
		select {
		case <-hup:
			s.Reload("SIGHUP")
		case <-ctx.Done():
			s.log.Info("shutting down")
			err := s.Close()
			if errors.Is(err, errQueriesDropped) {
				// A stop as asked: what was still running had its 5 s.
				s.log.Warn("queries still in flight after 5 s were dropped")
				return nil
			}
			return err
		}
	}
}

// serverOptions are the process-wide parts of a server.
type serverOptions struct {
	Log           *slog.Logger
	Level         *slog.LevelVar // set from server.log.level on every load, unless LevelOverride
	LevelOverride string
	Listen        []string // --listen: replaces server.listeners on every load
}

// server is a running privdns: the engine, the listeners that feed it and
// the HTTP endpoints, all rebuilt from the configuration on reload.
type server struct {
	opts     serverOptions
	log      *slog.Logger
	reg      *prometheus.Registry
	metrics  *metrics.Metrics
	engine   *resolver.Engine
	missing  *missing.Sketch        // names answered NXDOMAIN by Default links, since start
	zones    *zoneSet               // secondaries, served serials, NOTIFY (R12)
	limits   *listen.Limits         // what every listener counts together (R11); set by each load
	inFlight *report.Gate           // queries waiting on upstreams, every listener's (R11)
	notReady atomic.Pointer[string] // nil when ready, else why not
	checked  chan struct{}          // tests: the watcher looked at the files (if there is room)

	mu        sync.Mutex // one load at a time; guards everything below
	cfg       *config.Config
	cache     *cache.Cache
	groups    *groupPool
	listeners map[string]*listener
	http      *httpServer
	admin     *httpServer // the admin API (server.admin); nil when off
	attempted string      // fingerprint of the files last loaded (or tried)
	closed    bool

	retired cache.Stats // counted by caches and listeners a reload replaced

	stats atomic.Pointer[statsSource] // what scrapes read, without mu

	drainMu  sync.Mutex
	draining map[*listener]struct{} // removed by a reload, finishing their queries
}

type listener struct {
	ln *listen.Listener
	h  *dnsserver.Handler
}

// startServer starts a server for cfg with default process options.
func startServer(cfg *config.Config, log *slog.Logger) (*server, error) {
	return start(cfg, serverOptions{Log: log})
}

// start builds cfg, binds every listener and the HTTP endpoints; on error
// nothing is left running.
func start(cfg *config.Config, opts serverOptions) (*server, error) {
	watchSweeps()
	s := &server{
		opts: opts, log: opts.Log, reg: prometheus.NewRegistry(),
		cfg: &config.Config{}, groups: newGroupPool(nil), listeners: map[string]*listener{}, draining: map[*listener]struct{}{},
	}
	s.setNotReady("starting")
	if err := s.reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := s.reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	if err := s.reg.Register(buildInfo()); err != nil {
		return nil, err
	}
	var err error
	if s.metrics, err = metrics.New(s.reg); err != nil {
		return nil, err
	}
	s.groups.forget = s.metrics.ForgetUpstream
	// Until the first configuration is applied the engine refuses every
	// client; no listener is bound before then anyway.
	empty, err := resolver.NewView(resolver.ViewOptions{})
	if err != nil {
		return nil, err
	}
	s.missing = missing.New(0)
	if s.zones, err = newZoneSet(s.log, s.reg, s.zoneDataChanged); err != nil {
		return nil, err
	}
	// cfg's limits from the first query on; each load sets them again.
	s.limits = listen.NewLimits(listen.LimitsOptions{LimitSettings: limitSettings(cfg), Observer: s.metrics})
	s.inFlight = report.NewGate(cfg.Server.Limits.InFlight)
	s.engine = resolver.NewEngine(resolver.EngineOptions{View: empty, Logger: s.log, Observer: observers{s.metrics, s.missing}})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.apply(cfg); err != nil {
		s.shutdown()
		return nil, err
	}
	s.metrics.Reload(true, time.Now())
	s.attempted = fingerprint(cfg.File)
	s.notReady.Store(nil)
	logConfig(s.log, cfg)
	return s, nil
}

func (s *server) setNotReady(why string) { s.notReady.Store(&why) }

// addrs returns the bound listener addresses in configuration order.
func (s *server) addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, key := range listenerKeys(s.cfg) {
		out = append(out, s.listeners[key].ln.Addr)
	}
	return out
}

// httpAddr returns the bound HTTP address, "" when HTTP is off.
func (s *server) httpAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.http == nil {
		return ""
	}
	return s.http.ln.Addr().String()
}

// adminAddr returns the bound admin API address, "" when it is off.
func (s *server) adminAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin == nil {
		return ""
	}
	return s.admin.ln.Addr().String()
}

// Close stops the listeners (letting queries in flight finish for up to
// five seconds) and releases upstream connections.
func (s *server) Close() error {
	s.setNotReady("shutting down")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown()
}

// errQueriesDropped says that listeners closed with queries still in
// flight after the grace of Close; nothing else (an HTTP request slow to
// end, say) means queries were dropped.
var errQueriesDropped = errors.New("queries in flight dropped")

func (s *server) shutdown() error {
	if s.closed {
		return nil
	}
	s.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lerr := closeListeners(s.listeners)
	errs := []error{lerr}
	if errors.Is(lerr, context.DeadlineExceeded) {
		errs = append(errs, errQueriesDropped)
	}
	if s.http != nil {
		errs = append(errs, s.http.close(ctx))
	}
	if s.admin != nil {
		errs = append(errs, s.admin.close(ctx))
	}
	// Background refreshes, within the same 5 s; not when queries outlived
	// the grace: one could still start a refresh while this waits.
	if s.cache != nil && lerr == nil {
		waited := make(chan struct{})
		go func() { s.cache.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-ctx.Done():
		}
	}
	errs = append(errs, s.groups.close())
	s.zones.close()
	return errors.Join(errs...)
}

// zoneDataChanged drops every ready-packed reply when a zone's data changes
// under the View (a transfer): one kept from the old data would be sent on.
func (s *server) zoneDataChanged() {
	if src := s.stats.Load(); src != nil {
		for _, h := range src.handlers {
			h.Flush("", 0)
		}
	}
}

func cacheOptions(c config.Cache, log *slog.Logger) cache.Options {
	return cache.Options{
		MaxEntries: c.MaxEntries, MinTTL: c.MinTTL, MaxTTL: c.MaxTTL, MaxNegativeTTL: c.MaxNegativeTTL,
		ServeStale: c.ServeStale.Enabled, StaleAnswerTTL: c.ServeStale.AnswerTTL, StaleMaxAge: c.ServeStale.MaxAge,
		Prefetch: c.Prefetch, Logger: log,
	}
}

// logConfig says in a few lines what was loaded: the networks, each zone
// with its links, the rulesets and the upstreams (listeners are logged as
// they are bound).
func logConfig(log *slog.Logger, cfg *config.Config) {
	source := cfg.File
	if source == "" {
		source = "embedded default"
	}
	var networks, rulesets []string
	for _, n := range cfg.Networks {
		networks = append(networks, fmt.Sprintf("%s %v", n.Name, n.AddressPrefixes))
	}
	for _, rs := range cfg.ForwardingRulesets {
		rulesets = append(rulesets, fmt.Sprintf("%s (%d rules) → %v", rs.Name, len(rs.Rules), rs.Networks))
	}
	links := 0
	for _, z := range cfg.Zones {
		var ls []string
		for _, l := range z.Links {
			ls = append(ls, l.Name+"→"+l.Network+" "+l.ResolutionPolicy)
		}
		links += len(z.Links)
		if z.Secondary() {
			log.Info("zone", "name", z.Name, "primaries", z.Primaries, "links", ls)
			continue
		}
		log.Info("zone", "name", z.Name, "rrsets", z.Data.Len(), "links", ls)
	}
	log.Info("configuration loaded", "source", source, "networks", networks, "zones", len(cfg.Zones), "links", links,
		"rulesets", rulesets, "upstreams", cfg.Upstreams.Servers)
}
