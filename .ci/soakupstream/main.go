// Command soakupstream is the upstream of .ci/soak: a public resolver for
// the names of the soak that fails a given share of the queries it gets,
// half by never answering and half with SERVFAIL. On SIGTERM or SIGINT it
// prints what it did.
//
//	go run ./.ci/soakupstream -listen 127.0.0.1:5490 -fail 0.05
//
// Names (all under soak.example.): wwwN.pub A, nxN.pub NXDOMAIN,
// acctN.blob CNAME acctN.privatelink.blob (a public CNAME into the
// private zone privdns holds); anything else NXDOMAIN.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/miekg/dns"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5490", "UDP and TCP address")
	fail := flag.Float64("fail", 0.05, "share of queries that fail: half unanswered, half SERVFAIL")
	ttl := flag.Uint("ttl", 30, "TTL of answers and of the SOA minimum (negative caching)")
	flag.Parse()

	var queries, dropped, servfails atomic.Int64
	soa, err := dns.NewRR(fmt.Sprintf("soak.example. %d IN SOA ns.soak.example. hostmaster.soak.example. 1 3600 600 86400 %d", *ttl, *ttl))
	if err != nil {
		log.Fatal(err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		queries.Add(1)
		if p := rand.Float64(); p < *fail/2 {
			dropped.Add(1)
			return
		} else if p < *fail {
			servfails.Add(1)
			_ = w.WriteMsg(new(dns.Msg).SetRcode(r, dns.RcodeServerFailure))
			return
		}
		_ = w.WriteMsg(answer(r, uint32(*ttl), soa))
	})
	for _, proto := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: *listen, Net: proto, Handler: h}
		go func() { log.Fatal(srv.ListenAndServe()) }()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	fmt.Printf("soakupstream: %d queries, %d unanswered, %d SERVFAIL\n", queries.Load(), dropped.Load(), servfails.Load())
}

// answer is the reply to r: the records of the soak's names.
func answer(r *dns.Msg, ttl uint32, soa dns.RR) *dns.Msg {
	m := new(dns.Msg).SetReply(r)
	m.RecursionAvailable = true
	if len(r.Question) != 1 {
		return m.SetRcode(r, dns.RcodeFormatError)
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	label, parent, _ := strings.Cut(name, ".")
	switch {
	case parent == "pub.soak.example." && strings.HasPrefix(label, "www"):
		if q.Qtype == dns.TypeA {
			m.Answer = []dns.RR{&dns.A{Hdr: hdr(dns.TypeA), A: net.IPv4(192, 0, 2, byte(len(label)))}}
		} else {
			m.Ns = []dns.RR{soa}
		}
	case parent == "blob.soak.example." && strings.HasPrefix(label, "acct"):
		m.Answer = []dns.RR{&dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: label + ".privatelink.blob.soak.example."}}
	default:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa}
	}
	return m
}
