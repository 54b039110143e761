package upstream

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// fake is an upstream DNS server on 127.0.0.1 (UDP and TCP on one port,
// so a truncated UDP reply can be retried over TCP to the same address)
// that counts the queries reaching its handler.
type fake struct {
	addr string
	s    *resolvertest.Server
}

// newFake starts a fake upstream answering with h.
func newFake(t testing.TB, h dns.HandlerFunc) *fake {
	t.Helper()
	s := resolvertest.New(t, h)
	return &fake{addr: s.Addr, s: s}
}

// serve starts srv, waits until it listens and shuts it down at cleanup.
func serve(t testing.TB, srv *dns.Server) {
	t.Helper()
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
}

// answer replies with one A record for the question.
func answer(ip string) dns.HandlerFunc {
	return func(w dns.ResponseWriter, r *dns.Msg) {
		_ = w.WriteMsg(reply(r, ip))
	}
}

func reply(r *dns.Msg, ip string) *dns.Msg {
	m := new(dns.Msg).SetReply(r)
	rr := &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}}
	rr.A = net.ParseIP(ip)
	m.Answer = append(m.Answer, rr)
	return m
}

// rcode replies with an empty message carrying code.
func rcode(code int) dns.HandlerFunc {
	return func(w dns.ResponseWriter, r *dns.Msg) {
		_ = w.WriteMsg(new(dns.Msg).SetRcode(r, code))
	}
}

// silent never replies, so the client times out.
func silent(dns.ResponseWriter, *dns.Msg) {}

// rawUDP is a UDP server controlled byte by byte (resolvertest.RawUDP):
// respond gets every query with the socket and sender, and writes
// whatever packets it likes.
func rawUDP(t testing.TB, respond func(pc net.PacketConn, from net.Addr, q *dns.Msg)) string {
	t.Helper()
	return resolvertest.StartRawUDP(t, respond).Addr
}

// send packs m and writes it to addr from pc, failing the test on error.
func send(t testing.TB, pc net.PacketConn, to net.Addr, m *dns.Msg) {
	p, err := m.Pack()
	if err != nil {
		t.Error(err)
		return
	}
	if _, err := pc.WriteTo(p, to); err != nil {
		t.Error(err)
	}
}

// newReq builds an A query with an ID the upstream must never see.
func newReq(name string) *dns.Msg {
	m := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.Id = 4242
	return m
}

// newClock is the health tests' clock.
func newClock() *resolvertest.Clock { return resolvertest.NewClock(time.Unix(1_000_000, 0)) }

// observer records what the Group reports.
type observer struct {
	mu       sync.Mutex
	requests []string // "target rcode"
	health   []string // "target up|down"
}

func (o *observer) Request(target, rcode string, _ time.Duration) {
	o.mu.Lock()
	o.requests = append(o.requests, target+" "+rcode)
	o.mu.Unlock()
}

func (o *observer) Health(target string, healthy bool) {
	state := "down"
	if healthy {
		state = "up"
	}
	o.mu.Lock()
	o.health = append(o.health, target+" "+state)
	o.mu.Unlock()
}

func (o *observer) snapshot() (requests, health []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.requests...), append([]string(nil), o.health...)
}

// selfSigned returns a certificate for dnsName and a pool trusting it.
func selfSigned(t testing.TB, dnsName string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: dnsName},
		DNSNames:              []string{dnsName},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// countingListener counts accepted connections and can cut them all, as a
// server closing idle connections would.
type countingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *countingListener) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

func (l *countingListener) cutAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
}

// newDoT starts a DNS-over-TLS fake answering with h under certificate
// name dnsName; it returns its address, the accept counter and the roots.
func newDoT(t testing.TB, dnsName string, h dns.HandlerFunc) (string, *countingListener, *x509.CertPool) {
	t.Helper()
	cert, roots := selfSigned(t, dnsName)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	serve(t, &dns.Server{Net: "tcp-tls", Listener: tls.NewListener(cl, cfg), TLSConfig: cfg, Handler: h})
	return l.Addr().String(), cl, roots
}

func tlsRoots(roots *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: roots} }
