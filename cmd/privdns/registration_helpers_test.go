package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/zones/registration"
)

// regOp is one record of an UPDATE's update section.
type regOp struct {
	del  bool // delete the name's A RRset; else add the A record
	name string
	addr string
}

func addA(name, addr string) regOp { return regOp{name: name, addr: addr} }
func delA(name string) regOp       { return regOp{del: true, name: name} }

// updateMsg is an UPDATE of corp.example with ops.
func updateMsg(ops ...regOp) *dns.Msg {
	m := new(dns.Msg)
	m.SetUpdate("corp.example.")
	for _, o := range ops {
		name := dns.Fqdn(o.name)
		if o.del {
			m.RemoveRRset([]dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET}}})
			continue
		}
		m.Insert([]dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.ParseIP(o.addr)}})
	}
	return m
}

// sendUpdate sends an UPDATE of corp.example from src (signed with key
// dhcp when signed) and returns the reply; the client waits at most wait.
func sendUpdate(proto, src, addr string, signed bool, wait time.Duration, ops ...regOp) (*dns.Msg, error) {
	m := updateMsg(ops...)
	c := &dns.Client{Net: proto, Timeout: wait}
	ip := net.ParseIP(src)
	if proto == "tcp" {
		c.Dialer = &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: wait}
	} else {
		c.Dialer = &net.Dialer{LocalAddr: &net.UDPAddr{IP: ip}, Timeout: wait}
	}
	if signed {
		c.TsigSecret = map[string]string{"dhcp.": xfrSecret}
		m.SetTsig("dhcp.", dns.HmacSHA256, 300, time.Now().Unix())
	}
	resp, _, err := c.Exchange(m, addr)
	return resp, err
}

// mustUpdate sends an UPDATE and fails t unless it is answered want.
func mustUpdate(t *testing.T, src, addr string, signed bool, want int, ops ...regOp) {
	t.Helper()
	resp, err := sendUpdate("udp", src, addr, signed, 5*time.Second, ops...)
	if err != nil {
		t.Fatalf("update %v from %s: %v", ops, src, err)
	}
	if resp.Rcode != want {
		t.Fatalf("update %v from %s: %s, want %s", ops, src, dns.RcodeToString[resp.Rcode], dns.RcodeToString[want])
	}
}

// serveTextLog is serveText with the server's log written to log.
func serveTextLog(t *testing.T, dir, text string, log *slog.Logger) *server {
	t.Helper()
	file := filepath.Join(dir, "privdns.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	srv, err := startServer(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// registry is the running server's Registry of zone.
func (s *server) registry(t *testing.T, zone string) *registration.Registry {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.zones.regs[zone]
	if r == nil {
		t.Fatalf("no registration zone %s", zone)
	}
	return r.reg
}

// regProcessConfig is registrationConfig on a fixed address, for a privdns
// process restarted on the same port.
func regProcessConfig(addr string) string {
	return strings.Replace(registrationConfig, `"127.0.0.1:0"`, fmt.Sprintf("%q", addr), 1)
}

// startRegProcess starts privdns serve as its own process on dir and waits
// until it answers.
func startRegProcess(t *testing.T, dir, addr string) (*exec.Cmd, *lockedOutput) {
	t.Helper()
	file := filepath.Join(dir, "privdns.yaml")
	if err := os.WriteFile(file, []byte(regProcessConfig(addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, out := privdnsProcess(t, dir, "serve", "--config", file)
	eventually(t, "privdns to answer", func() bool {
		m, err := askErr("udp", "127.0.0.7", addr, "manual.corp.example", dns.TypeA, false)
		return err == nil && lastA(m) == "10.0.0.9"
	})
	return cmd, out
}

// sigkill kills a privdns process with SIGKILL and waits for it to go.
func sigkill(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}
