package secondary

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/datadir"
	"github.com/privdns/privdns/zones/xfr"
)

func TestNoDataIsNilUntilTheFirstTransfer(t *testing.T) {
	h := newHarness(t, []string{deadAddr(t)}, nil)
	if h.s.Current() != nil || h.s.Status().HasData {
		t.Fatal("a secondary without data serves something")
	}
	if d := h.run(); d != 10*time.Second {
		t.Errorf("next check in %v, want RetryWithoutData (10s)", d)
	}
	if h.s.Current() != nil || h.transfers(xfr.Failure) != 1 || h.s.Status().LastError == "" {
		t.Errorf("after a failed first check: current %v, failures %v, last error %q", h.s.Current(), h.transfers(xfr.Failure), h.s.Status().LastError)
	}
}

func TestLoadsFromTheFirstPrimaryThatAnswers(t *testing.T) {
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	dead := deadAddr(t)
	h := newHarness(t, []string{dead, p.addr}, nil)
	if d := h.run(); d != 60*time.Second {
		t.Errorf("next check in %v, want the SOA refresh (60s)", d)
	}
	if got := h.www(); got != "10.0.1.10" {
		t.Fatalf("www = %q, want 10.0.1.10", got)
	}
	st := h.s.Status()
	if st.Serial != 10 || st.Source != "primary "+p.addr || st.Expired || st.LastError != "" {
		t.Errorf("status = %+v", st)
	}
	if h.transfers(xfr.Success) != 1 || h.transfers(xfr.Failure) != 1 || !h.logHas("check failed", "zone=corp.example.", "primary="+dead) {
		t.Errorf("success %v, failure %v (want 1, 1); log:\n%s", h.transfers(xfr.Success), h.transfers(xfr.Failure), h.log)
	}
	if got := h.metric("privdns_zone_serial", "zone", "corp.example."); got != 10 {
		t.Errorf("privdns_zone_serial = %v, want 10", got)
	}
}

func TestNotifyBringsTheChangeByIXFR(t *testing.T) {
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	h := newHarness(t, []string{p.addr}, nil)
	h.run()
	p.set(mustZone(t, version(11, "new 60 IN A 10.0.2.1")...))
	h.notify()
	if got := h.www(); got != "10.0.1.11" {
		t.Fatalf("www = %q after NOTIFY, want 10.0.1.11", got)
	}
	if p.hits[dns.TypeIXFR].Load() != 1 || p.hits[dns.TypeAXFR].Load() != 1 {
		t.Errorf("AXFR %d, IXFR %d; want the first load by AXFR, the change by IXFR", p.hits[dns.TypeAXFR].Load(), p.hits[dns.TypeIXFR].Load())
	}
	if r := h.s.Current().Lookup("new.corp.example.", dns.TypeA); len(r.Records) != 1 {
		t.Errorf("the added record is missing: %v", r)
	}
	if !h.logHas("zone transferred", "kind=IXFR", "serial=11") {
		t.Errorf("log:\n%s", h.log)
	}
	// Two more changes in one IXFR.
	p.set(mustZone(t, version(12, "new 60 IN A 10.0.2.2")...))
	p.set(mustZone(t, version(13)...))
	h.notify()
	if got := h.www(); got != "10.0.1.13" || h.s.Current().Lookup("new.corp.example.", dns.TypeA).Records != nil {
		t.Errorf("after two changes: www %q, new %v; want 10.0.1.13 and new deleted", got, h.s.Current().Lookup("new.corp.example.", dns.TypeA).Records)
	}
	if p.hits[dns.TypeIXFR].Load() != 2 || p.hits[dns.TypeAXFR].Load() != 1 {
		t.Errorf("AXFR %d, IXFR %d; want 1, 2", p.hits[dns.TypeAXFR].Load(), p.hits[dns.TypeIXFR].Load())
	}
}

func TestIXFRFallsBackToAXFR(t *testing.T) {
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	h := newHarness(t, []string{p.addr}, nil)
	h.run()
	p.setMode("noixfr", nil)
	p.set(mustZone(t, version(11)...))
	h.notify()
	if got := h.www(); got != "10.0.1.11" || p.hits[dns.TypeAXFR].Load() != 2 || h.transfers(xfr.Success) != 2 || h.transfers(xfr.Failure) != 0 {
		t.Errorf("www %q, AXFR %d, success %v, failure %v; want the change by a second AXFR, no failure counted", got, p.hits[dns.TypeAXFR].Load(), h.transfers(xfr.Success), h.transfers(xfr.Failure))
	}
}

func TestChecksFollowTheSOATimers(t *testing.T) {
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	h := newHarness(t, []string{p.addr}, nil)
	if d := h.run(); d != 60*time.Second {
		t.Fatalf("first timer %v, want refresh 60s", d)
	}
	p.set(mustZone(t, version(11)...))
	h.clock.Advance(59 * time.Second)
	if h.www() != "10.0.1.10" {
		t.Fatal("checked before the refresh")
	}
	h.clock.Advance(time.Second)
	if d := h.clock.Wait(t); d != 60*time.Second || h.www() != "10.0.1.11" {
		t.Fatalf("after the refresh: next %v, www %s; want 60s and 10.0.1.11", d, h.www())
	}
	// A failure: the next check after the retry (30s), then refresh again.
	p.setMode("down", nil)
	h.clock.Advance(60 * time.Second)
	if d := h.clock.Wait(t); d != 30*time.Second {
		t.Fatalf("after a failure the next check is in %v, want retry 30s", d)
	}
	p.setMode("ok", nil)
	h.clock.Advance(30 * time.Second)
	if d := h.clock.Wait(t); d != 60*time.Second {
		t.Errorf("after a success the next check is in %v, want refresh 60s", d)
	}
	soa := p.hits[dns.TypeSOA].Load()
	if soa != 4 { // the first load, the refresh, the failure, the retry
		t.Errorf("%d SOA checks, want 4", soa)
	}
}

func TestSOATimersAreHonouredDownToOneSecond(t *testing.T) {
	p := newPrimary(t, nil, mustZone(t, "@ 3600 IN SOA ns1 hm 1 0 0 0 10", "@ 60 IN NS ns1", "www 60 IN A 10.0.1.1"))
	h := newHarness(t, []string{p.addr}, nil)
	if d := h.run(); d != time.Second {
		t.Errorf("refresh 0 gives a timer of %v, want 1s", d)
	}
	p.setMode("down", nil)
	h.clock.Advance(time.Second)
	if d := h.clock.Wait(t); d != time.Second {
		t.Errorf("retry 0 gives a timer of %v, want 1s", d)
	}
}

func TestBadTransfersKeepTheOldData(t *testing.T) {
	good := version(11)
	cases := []struct {
		name    string
		mode    string
		raw     []string // zone records as sent, SOA first
		edit    func(*Options)
		wantLog string
	}{
		{name: "CNAME beside other data", mode: "raw", raw: append(good, "www 60 IN CNAME elsewhere.example."), wantLog: "CNAME record"},
		{name: "records outside the zone", mode: "raw", raw: append(good, "www.other.example. 60 IN A 10.9.9.9"), wantLog: "owner is outside zone"},
		{name: "serial going backwards", mode: "raw", raw: version(9), wantLog: "serial went backwards"},
		{name: "a transfer cut short", mode: "truncated", wantLog: "AXFR"},
		{name: "NOTAUTH", mode: "notauth", wantLog: "NOTAUTH"},
		{name: "oversized", mode: "raw", raw: append(good, "a 60 IN A 10.0.0.1", "b 60 IN A 10.0.0.2"), edit: func(o *Options) { o.MaxRecords = 5 }, wantLog: "oversized"},
		{name: "SOA of the wrong zone", mode: "raw", raw: append([]string{"other.example. 3600 IN SOA ns1 hm 11 60 30 600 10"}, good[1:]...), wantLog: "no SOA of the zone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPrimary(t, nil, mustZone(t, version(10)...))
			h := newHarness(t, []string{p.addr}, c.edit)
			h.run()
			before := h.s.Current()
			if before == nil {
				t.Fatal("no first load")
			}
			p.set(mustZone(t, version(11)...)) // for "truncated": a newer serial to fetch
			p.setMode(c.mode, mustRRs(t, c.raw...))
			if d := h.notify(); d != 30*time.Second {
				t.Errorf("next check in %v, want the retry (30s)", d)
			}
			if h.s.Current() != before || h.www() != "10.0.1.10" {
				t.Errorf("the zone changed: www %s", h.www())
			}
			if h.transfers(xfr.Failure) != 1 {
				t.Errorf("failures = %v, want 1", h.transfers(xfr.Failure))
			}
			if !h.logHas("check failed", "zone=corp.example.", "primary="+p.addr, c.wantLog) {
				t.Errorf("no log line naming the zone, the primary and %q:\n%s", c.wantLog, h.log)
			}
			// The primary mends: the next check loads serial 11.
			p.setMode("ok", nil)
			h.clock.Advance(30 * time.Second)
			h.clock.Wait(t)
			if h.www() != "10.0.1.11" {
				t.Errorf("after the primary mended: www %s, want 10.0.1.11", h.www())
			}
		})
	}
}

func TestDelegationsAreDroppedWithAWarning(t *testing.T) {
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	p.setMode("raw", mustRRs(t, version(10, "_msdcs 60 IN NS dc1._msdcs", "dc1._msdcs 60 IN A 10.0.0.10")...))
	h := newHarness(t, []string{p.addr}, nil)
	h.run()
	z := h.s.Current()
	if z == nil {
		t.Fatalf("not loaded:\n%s", h.log)
	}
	if cut, ok := z.Delegated("dc1._msdcs.corp.example."); !ok || cut != "_msdcs.corp.example." {
		t.Errorf("Delegated = %q, %v", cut, ok)
	}
	if !h.logHas("delegations below the apex dropped", "_msdcs.corp.example.") {
		t.Errorf("no warning:\n%s", h.log)
	}
}

func TestExpiryAnswersNothingUntilATransferSucceeds(t *testing.T) {
	// refresh 60, retry 30, expire 100.
	p := newPrimary(t, nil, mustZone(t, "@ 3600 IN SOA ns1 hm 10 60 30 100 10", "@ 60 IN NS ns1", "www 60 IN A 10.0.1.10"))
	var mu sync.Mutex
	var changes []string // what OnChange heard: a serial, or "nil"
	h := newHarness(t, []string{p.addr}, func(o *Options) {
		o.OnChange = func(z *zones.Zone) {
			mu.Lock()
			defer mu.Unlock()
			if z == nil {
				changes = append(changes, "nil")
			} else {
				changes = append(changes, strconv.Itoa(int(z.SOA().Serial)))
			}
		}
	})
	h.run()
	p.setMode("down", nil)
	for _, step := range []time.Duration{60, 30} { // failed checks at 60 and 90
		h.clock.Advance(step * time.Second)
		h.clock.Wait(t)
	}
	if h.s.Current() == nil {
		t.Fatal("expired before the SOA expire")
	}
	h.clock.Advance(10 * time.Second) // t=100: the expire timer
	h.clock.Wait(t)
	if h.s.Current() != nil || !h.s.Status().Expired || h.metric("privdns_zone_expired", "zone", "corp.example.") != 1 {
		t.Fatalf("at the expire: current %v, status %+v, gauge %v", h.s.Current(), h.s.Status(), h.metric("privdns_zone_expired", "zone", "corp.example."))
	}
	if !h.logHas("zone expired", "zone=corp.example.") {
		t.Errorf("no log line:\n%s", h.log)
	}
	h.clock.Advance(20 * time.Second) // t=120: checks go on every retry
	h.clock.Wait(t)
	p.setMode("ok", nil)
	h.clock.Advance(30 * time.Second)
	h.clock.Wait(t)
	if h.www() != "10.0.1.10" || h.s.Status().Expired || h.metric("privdns_zone_expired", "zone", "corp.example.") != 0 {
		t.Errorf("after the primary answered again: www %q, status %+v", h.www(), h.s.Status())
	}
	// Whoever keeps replies made from the data hears of each change of
	// what Current returns, the expiry included.
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(changes, " "); got != "10 nil 10" {
		t.Errorf("OnChange heard %q, want \"10 nil 10\"", got)
	}
}

func TestRestartWithThePrimaryDownServesTheCopy(t *testing.T) {
	store, err := datadir.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := newPrimary(t, nil, mustZone(t, "@ 3600 IN SOA ns1 hm 10 60 30 600 10", "@ 60 IN NS ns1", "www 60 IN A 10.0.1.10"))
	first := newHarness(t, []string{p.addr}, func(o *Options) { o.Store = store })
	first.run()
	if first.www() != "10.0.1.10" {
		t.Fatal("no first load")
	}

	dead := []string{deadAddr(t)}
	start := first.clock.Now().Add(5 * time.Minute)
	second := newHarness(t, dead, func(o *Options) {
		o.Store = store
		o.Now = func() time.Time { return start }
	})
	if second.www() != "10.0.1.10" {
		t.Fatalf("after a restart with the primary down: www %q, want the copy's 10.0.1.10\n%s", second.www(), second.log)
	}
	if st := second.s.Status(); st.Source != "dataDir copy" || st.Serial != 10 {
		t.Errorf("status = %+v, want the dataDir copy at serial 10", st)
	}

	late := first.clock.Now().Add(11 * time.Minute) // past the 600 s expire
	third := newHarness(t, dead, func(o *Options) {
		o.Store = store
		o.Now = func() time.Time { return late }
	})
	if third.s.Current() != nil || !third.s.Status().Expired {
		t.Errorf("a copy older than the expire is served: %+v", third.s.Status())
	}
	if !third.logHas("older than the SOA expire") {
		t.Errorf("no log line:\n%s", third.log)
	}
}

func TestACheckAtTheSameSerialBringsAnExpiredCopyBack(t *testing.T) {
	store, _ := datadir.Open(t.TempDir(), nil)
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	first := newHarness(t, []string{p.addr}, func(o *Options) { o.Store = store })
	first.run()
	late := first.clock.Now().Add(time.Hour)
	clock := newFakeClock()
	clock.now = late
	h := newHarness(t, []string{p.addr}, func(o *Options) { o.Store = store; o.Now, o.After = clock.Now, clock.After })
	h.clock = clock
	if h.s.Current() != nil {
		t.Fatal("the expired copy is served at start")
	}
	h.run()
	if h.www() != "10.0.1.10" || p.hits[dns.TypeAXFR].Load() != 1 {
		t.Errorf("www %q after %d AXFRs; want the copy back after an SOA check alone", h.www(), p.hits[dns.TypeAXFR].Load())
	}
	if c, _ := store.LoadZone("corp.example."); !c.Checked.Equal(late) {
		t.Errorf("the check time kept is %v, want %v", c.Checked, late)
	}
}

func TestTSIG(t *testing.T) {
	key, _ := xfr.NewKey("xfr", "hmac-sha256", secretA)
	wrong, _ := xfr.NewKey("xfr", "hmac-sha256", "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMzI=")
	p := newPrimary(t, key, mustZone(t, version(10)...))
	for _, c := range []struct {
		name    string
		key     *xfr.Key
		wantWWW string
		wantLog string
	}{
		{"the right key", key, "10.0.1.10", ""},
		{"no key where one is required", nil, "", "REFUSED"},
		{"the wrong secret", wrong, "", "NOTAUTH (TSIG BADSIG)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, []string{p.addr}, func(o *Options) { o.Key = c.key })
			h.run()
			if h.www() != c.wantWWW {
				t.Errorf("www = %q, want %q", h.www(), c.wantWWW)
			}
			if c.wantLog != "" && !h.logHas("check failed", c.wantLog) {
				t.Errorf("no log line with %q:\n%s", c.wantLog, h.log)
			}
			if c.key != nil && c.wantWWW != "" {
				p.set(mustZone(t, version(11)...))
				h.notify() // SOA check and IXFR, signed
				if h.www() != "10.0.1.11" {
					t.Errorf("signed IXFR: www = %q\n%s", h.www(), h.log)
				}
			}
		})
	}
}

func TestHandleNotify(t *testing.T) {
	key, _ := xfr.NewKey("xfr", "hmac-sha256", secretA)
	wrong, _ := xfr.NewKey("xfr", "hmac-sha256", "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMzI=")
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	fromPrimary := newHarness(t, []string{p.addr}, nil)
	stranger := newHarness(t, []string{"127.0.0.2:53"}, nil)
	for _, c := range []struct {
		name      string
		h         *harness
		sign      *xfr.Key
		wantRcode int
		wantCheck bool
	}{
		{"from a primary's address", fromPrimary, nil, dns.RcodeSuccess, true},
		{"signed, from a primary's address", fromPrimary, key, dns.RcodeSuccess, true},
		{"signed with the wrong secret", fromPrimary, wrong, dns.RcodeNotAuth, false},
		{"from a stranger", stranger, nil, dns.RcodeRefused, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := listen(t, xfr.NewKeyring(key), func(w dns.ResponseWriter, r *dns.Msg) { c.h.s.HandleNotify(w, r) })
			m := new(dns.Msg)
			m.SetNotify("corp.example.")
			cl := &dns.Client{Timeout: time.Second}
			if c.sign != nil {
				c.sign.Sign(m, time.Now())
				cl.TsigProvider = xfr.NewKeyring(c.sign)
			}
			r, _, err := cl.Exchange(m, addr)
			if r == nil {
				t.Fatal(err)
			}
			if r.Rcode != c.wantRcode || r.Opcode != dns.OpcodeNotify {
				t.Errorf("reply %s %s, want NOTIFY %s", dns.OpcodeToString[r.Opcode], dns.RcodeToString[r.Rcode], dns.RcodeToString[c.wantRcode])
			}
			if c.sign == key && (err != nil || r.IsTsig() == nil) {
				t.Errorf("a signed NOTIFY's answer is not signed: %v", err)
			}
			select {
			case <-c.h.s.notify:
				if !c.wantCheck {
					t.Error("a check was asked for")
				}
			default:
				if c.wantCheck {
					t.Error("no check was asked for")
				}
			}
		})
	}
	if !stranger.s.IsPrimary(netip.MustParseAddr("::ffff:127.0.0.2")) || stranger.s.IsPrimary(netip.MustParseAddr("127.0.0.1")) {
		t.Error("IsPrimary compares addresses wrongly")
	}
}

func TestHistoryReceivesTheChanges(t *testing.T) {
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	hist := xfr.NewHistory(xfr.HistoryOptions{})
	var changes []uint32
	h := newHarness(t, []string{p.addr}, func(o *Options) {
		o.History = hist
		o.OnChange = func(z *zones.Zone) { changes = append(changes, z.SOA().Serial) }
	})
	h.run()
	p.set(mustZone(t, version(11)...))
	h.notify()
	p.setMode("noixfr", nil)
	p.set(mustZone(t, version(12)...))
	h.notify()
	if ds, ok := hist.Since(10, 12); !ok || len(ds) != 2 {
		t.Errorf("history 10→12 = %v, %v; want two deltas (one from IXFR, one from AXFR)", ds, ok)
	}
	if len(changes) != 3 || changes[2] != 12 {
		t.Errorf("OnChange saw %v, want 10 11 12", changes)
	}
}

func TestRunEndsWithItsContext(t *testing.T) {
	h := newHarness(t, []string{deadAddr(t)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.s.Run(ctx); close(done) }()
	h.clock.Wait(t)
	cancel()
	<-done
}

func TestACopyWithItsSOAInTheMiddleStillTakesIXFR(t *testing.T) {
	store, _ := datadir.Open(t.TempDir(), nil)
	recs := mustRRs(t, version(10)...)
	recs[0], recs[2] = recs[2], recs[0] // as a hand edit might leave it
	if err := store.SaveZone("corp.example.", datadir.ZoneCopy{Zone: "corp.example.", Serial: 10, Records: recs, Checked: newFakeClock().Now()}); err != nil {
		t.Fatal(err)
	}
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	p.set(mustZone(t, version(11)...))
	h := newHarness(t, []string{p.addr}, func(o *Options) { o.Store = store })
	if h.www() != "10.0.1.10" {
		t.Fatalf("the copy is not served: %q\n%s", h.www(), h.log)
	}
	h.run()
	if h.www() != "10.0.1.11" || p.hits[dns.TypeAXFR].Load() != 0 {
		t.Errorf("www %q after %d AXFRs, want 10.0.1.11 by IXFR alone\n%s", h.www(), p.hits[dns.TypeAXFR].Load(), h.log)
	}
}

func TestRFC2181OdditiesOfATransferAreLogged(t *testing.T) {
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	p.setMode("raw", mustRRs(t, version(10, "multi 60 IN A 10.0.0.1", "multi 120 IN A 10.0.0.2")...))
	h := newHarness(t, []string{p.addr}, nil)
	h.run()
	if h.s.Current() == nil || !h.logHas("accepted an oddity in the transfer", "multi.corp.example.") {
		t.Errorf("an RRset with two TTLs: current %v\n%s", h.s.Current(), h.log)
	}
}

// Sync returns once a check that began after it was called has ended: the
// change is served when it returns, and a check already running when it
// is called does not count.
func TestSyncWaitsForAFreshCheck(t *testing.T) {
	p := newPrimary(t, nil, mustZone(t, version(10)...))
	h := newHarness(t, []string{p.addr}, nil)
	h.run()
	for serial := 11; serial <= 15; serial++ {
		p.set(mustZone(t, version(serial)...))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := h.s.Sync(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if got, want := h.www(), fmt.Sprintf("10.0.1.%d", serial); got != want {
			t.Fatalf("www = %q right after Sync, want %s", got, want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := newHarness(t, []string{p.addr}, nil).s.Sync(ctx); err == nil {
		t.Error("Sync without Run returned nil on an ended context")
	}
}
