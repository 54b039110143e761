package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/cache"
)

func newServeCommand() *cobra.Command {
	var file, level string
	cmd := &cobra.Command{
		Use:   "serve [--config FILE]",
		Short: "Serve DNS (no FILE and no ./privdns.yaml: the embedded default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(file, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log, err := newLogger(cfg.Server.Log, level, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			s, err := startServer(cfg, log)
			if err != nil {
				log.Error("cannot start", "err", err)
				return exitError{1}
			}
			<-ctx.Done()
			log.Info("shutting down")
			return s.Close()
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "configuration file (default ./privdns.yaml, else the embedded default)")
	cmd.Flags().StringVar(&level, "log-level", "", "log level: debug, info, warn or error (overrides server.log.level)")
	return cmd
}

// server is a running privdns: the engine with its current configuration,
// and the listeners that feed it.
type server struct {
	log       *slog.Logger
	engine    *resolver.Engine
	cache     *cache.Cache
	cur       *built
	listeners []*resolver.Listener
}

// startServer builds cfg and binds every listener; on error nothing is left
// running.
func startServer(cfg *config.Config, log *slog.Logger) (*server, error) {
	c, err := cache.New(cacheOptions(cfg.Cache, log))
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	b, err := build(cfg, deps{log: log, cache: c})
	if err != nil {
		return nil, err
	}
	s := &server{log: log, cache: c, cur: b, engine: resolver.NewEngine(resolver.EngineOptions{View: b.view, Logger: log})}
	for _, l := range cfg.Server.Listeners {
		h := resolver.NewHandler(resolver.HandlerOptions{Resolver: s.engine, Network: l.Network, Identity: cfg.Server.Identity, Logger: log})
		ln, err := resolver.Listen(l.Address, h)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.listeners = append(s.listeners, ln)
		log.Info("listening", "address", ln.Addr, "network", l.Network)
	}
	logConfig(log, cfg)
	return s, nil
}

// Close stops the listeners (letting queries in flight finish for up to
// five seconds) and releases upstream connections.
func (s *server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, l := range s.listeners {
		errs = append(errs, l.Shutdown(ctx))
	}
	s.cache.Wait()
	errs = append(errs, s.cur.Close())
	return errors.Join(errs...)
}

func cacheOptions(c config.Cache, log *slog.Logger) cache.Options {
	return cache.Options{
		MaxEntries: c.MaxEntries, MinTTL: c.MinTTL, MaxTTL: c.MaxTTL, MaxNegativeTTL: c.MaxNegativeTTL,
		ServeStale: c.ServeStale.Enabled, StaleAnswerTTL: c.ServeStale.AnswerTTL, StaleMaxAge: c.ServeStale.MaxAge,
		Prefetch: c.Prefetch, Logger: log,
	}
}

// logConfig says in a few lines what was loaded.
func logConfig(log *slog.Logger, cfg *config.Config) {
	source := cfg.File
	if source == "" {
		source = "embedded default"
	}
	links := 0
	for _, z := range cfg.Zones {
		links += len(z.Links)
		log.Info("zone", "name", z.Name, "rrsets", z.Data.Len(), "links", len(z.Links))
	}
	log.Info("configuration loaded", "source", source, "networks", len(cfg.Networks), "zones", len(cfg.Zones),
		"links", links, "rulesets", len(cfg.ForwardingRulesets), "upstreams", cfg.Upstreams.Servers)
}
