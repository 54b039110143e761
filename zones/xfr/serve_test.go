package xfr

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const (
	secretA = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="
	secretB = "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMzI="
)

var zoneV1 = []string{
	"@ 3600 IN SOA ns1 hm 10 60 30 600 10",
	"@ 60 IN NS ns1",
	"ns1 60 IN A 10.0.0.53",
	"www 60 IN A 10.0.0.1",
	"old 60 IN TXT \"going\"",
}

var zoneV2 = []string{
	"@ 3600 IN SOA ns1 hm 11 60 30 600 10",
	"@ 60 IN NS ns1",
	"ns1 60 IN A 10.0.0.53",
	"www 120 IN A 10.0.0.1",
	"new 60 IN A 10.0.0.2",
}

// outboundServer serves o behind a test server and returns its address.
func outboundServer(t *testing.T, o *Outbound, kr Keyring) string {
	addr, _ := outboundServerDone(t, o, kr)
	return addr
}

// outboundServerDone is outboundServer that also says when each Serve
// call has returned (and counted).
func outboundServerDone(t *testing.T, o *Outbound, kr Keyring) (string, <-chan struct{}) {
	t.Helper()
	done := make(chan struct{}, 100)
	addr, _ := startServer(t, kr, func(w dns.ResponseWriter, r *dns.Msg) {
		if err := Serve(w, r, o); err != nil {
			t.Logf("Serve: %v", err)
		}
		done <- struct{}{}
	})
	return addr, done
}

func loopback() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }

// transferIn runs an AXFR or IXFR (serial = the client's) and returns
// every record received.
func transferIn(t *testing.T, addr string, qtype uint16, serial uint32, key *Key) ([]dns.RR, int, error) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("corp.example.", qtype)
	if qtype == dns.TypeIXFR {
		m.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "corp.example.", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Ns: "ns1.corp.example.", Mbox: "hm.corp.example.", Serial: serial}}
	}
	tr := &dns.Transfer{}
	if key != nil {
		key.Sign(m, time.Now())
		tr.TsigProvider = NewKeyring(key)
	}
	ch, err := tr.In(m, addr)
	if err != nil {
		return nil, 0, err
	}
	var rrs []dns.RR
	msgs := 0
	for env := range ch {
		msgs++
		if env.Error != nil {
			err = env.Error
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs, msgs, err
}

// exchange sends one request over net and returns the reply.
func exchange(t *testing.T, network, addr string, m *dns.Msg, kr Keyring) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	if kr != nil {
		c.TsigProvider = kr
	}
	r, _, err := c.Exchange(m, addr)
	if r == nil {
		t.Fatalf("exchange: %v", err)
	}
	return r
}

func TestServeAXFRSendsTheWholeZone(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, _ := NewMetrics(reg)
	z := mustZone(t, "corp.example", zoneV1...)
	addr, done := outboundServerDone(t, &Outbound{Zone: z, Allow: loopback(), Metrics: m}, nil)
	rrs, _, err := transferIn(t, addr, dns.TypeAXFR, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-done
	want := texts(append(z.Records(), z.SOA()))
	if got := texts(rrs); got != want {
		t.Errorf("AXFR =\n%s\nwant\n%s", got, want)
	}
	if got := testutil.ToFloat64(m.transfers.WithLabelValues("corp.example.", "out", "success")); got != 1 {
		t.Errorf("transfers{out,success} = %v, want 1", got)
	}
}

func TestServeSplitsALargeZoneAndSignsEveryMessage(t *testing.T) {
	recs := append([]string{}, zoneV1...)
	for i := range 3000 {
		recs = append(recs, fmt.Sprintf("host-%d 60 IN TXT \"%s\"", i, strings.Repeat("x", 40)))
	}
	z := mustZone(t, "corp.example", recs...)
	key := mustKey(t, "xfr", "hmac-sha512", secretA)
	addr := outboundServer(t, &Outbound{Zone: z, Allow: loopback(), Key: key}, NewKeyring(key))
	rrs, msgs, err := transferIn(t, addr, dns.TypeAXFR, 0, key) // In verifies each message's TSIG
	if err != nil {
		t.Fatal(err)
	}
	if len(rrs) != len(z.Records())+1 || msgs < 4 {
		t.Errorf("got %d records in %d messages, want %d in several", len(rrs), msgs, len(z.Records())+1)
	}
}

func TestServeRefusesAndRejects(t *testing.T) {
	key := mustKey(t, "xfr", "hmac-sha256", secretA)
	other := mustKey(t, "other", "hmac-sha256", secretB)
	wrongSecret := mustKey(t, "xfr", "hmac-sha256", secretB)
	wrongAlg := mustKey(t, "xfr", "hmac-sha512", secretA)
	unknown := mustKey(t, "stranger", "hmac-sha256", secretA)
	z := mustZone(t, "corp.example", zoneV1...)
	reg := prometheus.NewRegistry()
	m, _ := NewMetrics(reg)
	serverKeys := NewKeyring(key, other)
	withKey := outboundServer(t, &Outbound{Zone: z, Allow: loopback(), Key: key, Metrics: m}, serverKeys)
	noKey := outboundServer(t, &Outbound{Zone: z, Allow: loopback(), Metrics: m}, serverKeys)
	elsewhere := outboundServer(t, &Outbound{Zone: z, Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Metrics: m}, serverKeys)

	cases := []struct {
		name      string
		addr      string
		network   string
		qtype     uint16
		sign      *Key
		signedAt  time.Time
		wantRcode int
		wantTSIG  int // TSIG error in the reply; -1 = no TSIG in the reply
		wantCount string
	}{
		{"source outside allow", elsewhere, "tcp", dns.TypeAXFR, nil, time.Time{}, dns.RcodeRefused, -1, Refused},
		{"source outside allow, SOA", elsewhere, "udp", dns.TypeSOA, nil, time.Time{}, dns.RcodeRefused, -1, ""},
		{"unsigned where a key is required", withKey, "tcp", dns.TypeAXFR, nil, time.Time{}, dns.RcodeRefused, -1, Refused},
		{"unsigned SOA where a key is required", withKey, "udp", dns.TypeSOA, nil, time.Time{}, dns.RcodeRefused, -1, ""},
		{"another valid key", withKey, "tcp", dns.TypeAXFR, other, time.Time{}, dns.RcodeRefused, dns.RcodeSuccess, Refused},
		{"wrong secret", withKey, "tcp", dns.TypeAXFR, wrongSecret, time.Time{}, dns.RcodeNotAuth, dns.RcodeBadSig, Refused},
		{"right secret, wrong algorithm", withKey, "tcp", dns.TypeAXFR, wrongAlg, time.Time{}, dns.RcodeNotAuth, dns.RcodeBadKey, Refused},
		{"unknown key", noKey, "tcp", dns.TypeAXFR, unknown, time.Time{}, dns.RcodeNotAuth, dns.RcodeBadKey, Refused},
		{"signed an hour ago", withKey, "tcp", dns.TypeAXFR, key, time.Now().Add(-time.Hour), dns.RcodeNotAuth, dns.RcodeBadTime, Refused},
		{"AXFR over UDP", noKey, "udp", dns.TypeAXFR, nil, time.Time{}, dns.RcodeFormatError, -1, Failure},
		{"signed SOA", withKey, "udp", dns.TypeSOA, key, time.Time{}, dns.RcodeSuccess, dns.RcodeSuccess, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := map[string]float64{}
			for _, res := range []string{Success, Failure, Refused} {
				before[res] = testutil.ToFloat64(m.transfers.WithLabelValues("corp.example.", "out", res))
			}
			q := new(dns.Msg)
			q.SetQuestion("corp.example.", c.qtype)
			var kr Keyring
			if c.sign != nil {
				at := c.signedAt
				if at.IsZero() {
					at = time.Now()
				}
				c.sign.Sign(q, at)
				kr = NewKeyring(c.sign)
			}
			r := exchange(t, c.network, c.addr, q, kr)
			if r.Rcode != c.wantRcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[c.wantRcode])
			}
			ts := r.IsTsig()
			switch {
			case c.wantTSIG < 0 && ts != nil:
				t.Errorf("reply carries a TSIG: %v", ts)
			case c.wantTSIG >= 0 && ts == nil:
				t.Errorf("reply carries no TSIG, want error %s", dns.RcodeToString[c.wantTSIG])
			case ts != nil && int(ts.Error) != c.wantTSIG:
				t.Errorf("TSIG error = %s, want %s", dns.RcodeToString[int(ts.Error)], dns.RcodeToString[c.wantTSIG])
			case ts != nil && (ts.Error == dns.RcodeBadSig || ts.Error == dns.RcodeBadKey) && ts.MAC != "":
				t.Errorf("a %s reply is signed", dns.RcodeToString[int(ts.Error)])
			case ts != nil && (ts.Error == dns.RcodeBadSig || ts.Error == dns.RcodeBadKey) && time.Since(time.Unix(int64(ts.TimeSigned), 0)).Abs() > time.Minute:
				t.Errorf("a %s reply's Time Signed is %d, not the server's time (clients then blame their clocks)", dns.RcodeToString[int(ts.Error)], ts.TimeSigned)
			case ts != nil && ts.Error == dns.RcodeBadTime && (ts.MAC == "" || ts.OtherLen != 6):
				t.Errorf("a BADTIME reply must be signed and carry the server's time: %v", ts)
			}
			if c.wantRcode == dns.RcodeSuccess && (len(r.Answer) != 1 || !r.Authoritative) {
				t.Errorf("SOA reply = %v, want the SOA with AA", r)
			}
			for _, res := range []string{Success, Failure, Refused} {
				want := before[res]
				if res == c.wantCount {
					want++
				}
				if got := testutil.ToFloat64(m.transfers.WithLabelValues("corp.example.", "out", res)); got != want {
					t.Errorf("transfers{out,%s} = %v, want %v", res, got, want)
				}
			}
		})
	}
}

func TestServeIXFR(t *testing.T) {
	v1 := mustZone(t, "corp.example", zoneV1...)
	v2 := mustZone(t, "corp.example", zoneV2...)
	v3 := mustZone(t, "corp.example", append([]string{"@ 3600 IN SOA ns1 hm 12 60 30 600 10"}, zoneV2[1:]...)...)
	h := NewHistory(HistoryOptions{})
	h.Add(v1, v2)
	h.Add(v2, v3)
	withHistory := outboundServer(t, &Outbound{Zone: v3, History: h, Allow: loopback()}, nil)
	without := outboundServer(t, &Outbound{Zone: v3, Allow: loopback()}, nil)

	t.Run("from a serial in the history: the deltas", func(t *testing.T) {
		rrs, _, err := transferIn(t, withHistory, dns.TypeIXFR, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join([]string{
			v3.SOA().String(),
			v1.SOA().String(),
			"old.corp.example.\t60\tIN\tTXT\t\"going\"",
			"www.corp.example.\t60\tIN\tA\t10.0.0.1",
			v2.SOA().String(),
			"new.corp.example.\t60\tIN\tA\t10.0.0.2",
			"www.corp.example.\t120\tIN\tA\t10.0.0.1",
			v2.SOA().String(),
			v3.SOA().String(),
			v3.SOA().String(),
		}, "\n")
		if got := texts(rrs); got != want {
			t.Errorf("IXFR =\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("without the history: the whole zone", func(t *testing.T) {
		rrs, _, err := transferIn(t, without, dns.TypeIXFR, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := texts(rrs), texts(append(v3.Records(), v3.SOA())); got != want {
			t.Errorf("IXFR =\n%s\nwant the zone\n%s", got, want)
		}
	})
	t.Run("from a serial older than the history: the whole zone", func(t *testing.T) {
		rrs, _, _ := transferIn(t, withHistory, dns.TypeIXFR, 3, nil)
		if len(rrs) != len(v3.Records())+1 {
			t.Errorf("got %d records, want the whole zone (%d)", len(rrs), len(v3.Records())+1)
		}
	})
	for _, c := range []struct {
		name    string
		network string
		serial  uint32
	}{
		{"current serial: the single SOA", "tcp", 12},
		{"a serial ahead: the single SOA", "tcp", 13},
		{"over UDP: the single SOA", "udp", 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion("corp.example.", dns.TypeIXFR)
			q.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "corp.example.", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Ns: "ns1.corp.example.", Mbox: "hm.corp.example.", Serial: c.serial}}
			r := exchange(t, c.network, withHistory, q, nil)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.SOA).Serial != 12 || !r.Authoritative {
				t.Errorf("reply = %v, want the single SOA of serial 12 with AA", r)
			}
		})
	}
	t.Run("without the client's SOA: FORMERR", func(t *testing.T) {
		q := new(dns.Msg)
		q.SetQuestion("corp.example.", dns.TypeIXFR)
		if r := exchange(t, "tcp", withHistory, q, nil); r.Rcode != dns.RcodeFormatError {
			t.Errorf("rcode = %s, want FORMERR", dns.RcodeToString[r.Rcode])
		}
	})
}

func TestServeWithoutDataOrQuestion(t *testing.T) {
	addr := outboundServer(t, &Outbound{Allow: loopback()}, nil)
	q := new(dns.Msg)
	q.SetQuestion("corp.example.", dns.TypeAXFR)
	if r := exchange(t, "tcp", addr, q, nil); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("AXFR of a zone without data: %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
	z := mustZone(t, "corp.example", zoneV1...)
	addr = outboundServer(t, &Outbound{Zone: z, Allow: loopback()}, nil)
	q.Question = nil
	if r := exchange(t, "tcp", addr, q, nil); r.Rcode != dns.RcodeFormatError {
		t.Errorf("no question: %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
}
