package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpServer serves /metrics, /healthz and /readyz.
type httpServer struct {
	addr string // as configured
	srv  *http.Server
	ln   net.Listener
}

// startHTTP binds addr (so a bad address fails the load that asked for it)
// and serves in the background.
func (s *server) startHTTP(addr string) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &bindError{what: "server.http", addr: addr, err: err}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if why := s.notReady.Load(); why != nil {
			http.Error(w, "not ready: "+*why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	h := &httpServer{addr: addr, ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("HTTP server stopped", "address", addr, "err", err)
		}
	}()
	s.log.Info("serving HTTP", "address", ln.Addr().String(), "paths", "/metrics /healthz /readyz")
	return h, nil
}

// close waits (until ctx ends) for requests in flight, then closes what
// is left: a slow scrape does not hold a shutdown up.
func (h *httpServer) close(ctx context.Context) error {
	if err := h.srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		return h.srv.Close()
	} else {
		return err
	}
}
