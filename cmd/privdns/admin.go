package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/metrics"
	"github.com/privdns/privdns/resolver/missing"
)

// The admin API (SPEC §10) on server.admin, never on server.http: it
// changes what privdns answers, so it has its own address to bind to
// loopback or to protect, apart from what a metrics scraper may reach.

// observers is the Engine's Observer: the metrics, and the sketch of
// missing names behind /nxdomains, which lives as long as the process
// (reloads keep it).
type observers struct {
	*metrics.Metrics
	missing *missing.Sketch
}

func (o observers) NXDomain(zone, network, link, name string) {
	o.missing.NXDomain(zone, network, link, name)
}

// flushResult is the body of a successful POST /cache/flush.
type flushResult struct {
	Name    string `json:"name,omitempty"`
	Type    string `json:"type,omitempty"`
	Flushed int    `json:"flushed"` // cache entries dropped
}

// startAdmin binds addr and serves the admin API in the background.
func (s *server) startAdmin(addr string) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server.admin %s: %w", addr, err)
	}
	h := &httpServer{addr: addr, ln: ln, srv: &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin API stopped", "address", addr, "err", err)
		}
	}()
	s.log.Info("serving the admin API", "address", ln.Addr().String(), "paths", "POST /cache/flush, GET /nxdomains")
	return h, nil
}

// adminHandler routes the admin paths; the mux answers 404 for unknown
// paths and 405 (with Allow) for a wrong method.
func (s *server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cache/flush", s.serveFlush)
	mux.HandleFunc("GET /nxdomains", s.serveNXDomains)
	return mux
}

func (s *server) serveFlush(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, typ := q.Get("name"), q.Get("type")
	var qtype uint16
	switch {
	case name == "" && typ != "":
		http.Error(w, "type needs a name: flush one type of one name, or every answer without either", http.StatusBadRequest)
		return
	case name != "":
		var err error
		if name, err = parseName(name); err != nil {
			http.Error(w, "name: "+err.Error(), http.StatusBadRequest)
			return
		}
		if typ != "" {
			if qtype, err = parseType(typ); err != nil || qtype == 0 {
				http.Error(w, fmt.Sprintf("type: %q is not a DNS record type (a mnemonic such as AAAA, or TYPE65)", typ), http.StatusBadRequest)
				return
			}
			typ = dns.TypeToString[qtype]
			if typ == "" {
				typ = "TYPE" + strconv.Itoa(int(qtype))
			}
		}
	}
	res := flushResult{Name: name, Type: typ, Flushed: s.flush(name, qtype)}
	s.log.Info("cache flushed", "name", name, "type", typ, "entries", res.Flushed, "from", r.RemoteAddr)
	writeJSON(w, res)
}

// flush drops the cached answers to name (every name when ""), of qtype
// (every type when 0), and the listeners' ready-packed replies to them.
// It reads what the last load published, never s.mu: a reload or Close
// holding s.mu waits for admin requests to end.
func (s *server) flush(name string, qtype uint16) int {
	src := s.stats.Load()
	if src == nil {
		return 0
	}
	n := 0
	if src.cache != nil {
		if name == "" {
			n = src.cache.Stats().Entries
			src.cache.Purge()
		} else {
			n = src.cache.Flush(name, qtype)
		}
	}
	for _, h := range src.handlers {
		h.Flush(name, qtype)
	}
	return n
}

func (s *server) serveNXDomains(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	zone, limit := "", 10
	if z := q.Get("zone"); z != "" {
		var err error
		if zone, err = parseName(z); err != nil {
			http.Error(w, "zone: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			http.Error(w, fmt.Sprintf("limit: %q is not a whole number of at least 1", l), http.StatusBadRequest)
			return
		}
		limit = n
	}
	writeJSON(w, s.missing.Top(zone, limit))
}

// parseName reads a DNS name as the API takes it: absolute or not, any
// case; it returns the lower-case FQDN.
func parseName(s string) (string, error) {
	if _, ok := dns.IsDomainName(s); !ok || strings.ContainsAny(s, " \t") || strings.Contains(s, "..") {
		return "", fmt.Errorf("%q is not a DNS name", s)
	}
	return dns.CanonicalName(s), nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
