package upstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// gate holds every query until released, to keep attempts in flight.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	g := &gate{entered: make(chan struct{}, 16), release: make(chan struct{})}
	return g
}

func (g *gate) wrap(h dns.HandlerFunc) dns.HandlerFunc {
	return func(w dns.ResponseWriter, r *dns.Msg) {
		g.entered <- struct{}{}
		<-g.release
		h(w, r)
	}
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// switchable answers or fails depending on a flag the test flips.
func switchable(ok *atomic.Bool, ip string) dns.HandlerFunc {
	return func(w dns.ResponseWriter, r *dns.Msg) {
		if ok.Load() {
			answer(ip)(w, r)
			return
		}
		rcode(dns.RcodeRefused)(w, r)
	}
}

func TestTargetGoesDownIsSkippedProbedAndComesBackUp(t *testing.T) {
	var aOK atomic.Bool
	a, b := newFake(t, switchable(&aOK, "192.0.2.1")), newFake(t, answer("192.0.2.2"))
	clk, obs := newClock(), &observer{}
	g := newTestGroup(t, GroupOptions{
		Targets: []string{a.addr, b.addr}, FailThreshold: 2,
		Backoff: time.Second, MaxBackoff: 4 * time.Second, Now: clk.Now, Observer: obs,
	})
	steps := []struct {
		name     string
		advance  time.Duration
		aHealthy bool
		wantHits int64 // on a, after the query
		wantIP   string
	}{
		{"first failure", 0, false, 1, "192.0.2.2"},
		{"second failure marks down", 0, false, 2, "192.0.2.2"},
		{"skipped while down", 0, false, 2, "192.0.2.2"},
		{"skipped just before back-off ends", 999 * time.Millisecond, false, 2, "192.0.2.2"},
		// While b is up, a is probed on the side: the client gets b at once.
		{"probed when back-off ends", time.Millisecond, false, 3, "192.0.2.2"},
		{"failed probe doubled back-off to 2s", time.Second, false, 3, "192.0.2.2"},
		{"probed after 2s", time.Second, false, 4, "192.0.2.2"},
		{"probed after 4s", 4 * time.Second, false, 5, "192.0.2.2"},
		{"back-off capped at MaxBackoff", 4 * time.Second, true, 6, "192.0.2.2"},
		{"up again", 0, true, 7, "192.0.2.1"},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		aOK.Store(s.aHealthy)
		m, err := g.Exchange(context.Background(), newReq("www.example.com"))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		g.probes.Wait()
		if got := a.s.Hits(); got != s.wantHits {
			t.Fatalf("%s: hits on a = %d, want %d", s.name, got, s.wantHits)
		}
		wantA(t, m, s.wantIP)
	}
	_, health := obs.snapshot()
	want := []string{a.addr + " up", b.addr + " up", a.addr + " down", a.addr + " up"}
	if strings.Join(health, ",") != strings.Join(want, ",") {
		t.Errorf("health reports %v, want %v", health, want)
	}
}

func TestADownTargetIsProbedOnTheSideOnceWhileAnotherIsUp(t *testing.T) {
	var aOK, blocking atomic.Bool
	gt := newGate()
	a := newFake(t, func(w dns.ResponseWriter, r *dns.Msg) {
		h := switchable(&aOK, "192.0.2.1")
		if blocking.Load() {
			h = gt.wrap(h)
		}
		h(w, r)
	})
	t.Cleanup(gt.open)
	b := newFake(t, answer("192.0.2.2"))
	clk, obs := newClock(), &observer{}
	g := newTestGroup(t, GroupOptions{Targets: []string{a.addr, b.addr}, FailThreshold: 1, Now: clk.Now, Timeout: 2 * time.Second, Observer: obs})

	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err != nil {
		t.Fatal(err) // a fails and goes down, b answers
	}
	blocking.Store(true)
	aOK.Store(true)
	clk.Advance(time.Second)

	// The back-off is over: the next query starts the probe of a and is
	// answered by b without waiting for it; the one after does not probe
	// a second time.
	for i := range 2 {
		m, err := g.Exchange(context.Background(), newReq(fmt.Sprintf("q%d.example.com", i)))
		if err != nil {
			t.Fatal(err)
		}
		wantA(t, m, "192.0.2.2")
		if i == 0 {
			<-gt.entered // the probe is waiting on a
		}
	}
	if got := a.s.Hits(); got != 2 {
		t.Errorf("hits on a = %d, want 2: one failure, then one probe", got)
	}
	gt.open()
	g.probes.Wait()
	m, err := g.Exchange(context.Background(), newReq("www.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	wantA(t, m, "192.0.2.1") // the probe's answer brought a back
	if _, health := obs.snapshot(); !slices.Equal(health, []string{a.addr + " up", b.addr + " up", a.addr + " down", a.addr + " up"}) {
		t.Errorf("health reports %v", health)
	}
}

func TestCloseEndsAProbeOnTheSide(t *testing.T) {
	asked := make(chan struct{}, 2)
	a := newFake(t, func(dns.ResponseWriter, *dns.Msg) { asked <- struct{}{} }) // never answers
	b := newFake(t, answer("192.0.2.2"))
	clk := newClock()
	g, err := NewGroup(GroupOptions{Targets: []string{a.addr, b.addr}, FailThreshold: 1, Now: clk.Now, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err != nil {
		t.Fatal(err) // a times out and goes down
	}
	g.timeout = time.Hour // the probe would wait an hour
	clk.Advance(time.Second)
	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"failure", "probe"} {
		select {
		case <-asked:
		case <-time.After(10 * time.Second):
			t.Fatalf("the %s never reached a", what)
		}
	}
	done := make(chan error, 1)
	go func() { done <- g.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits on a probe that waits an hour")
	}
}

func TestAllTargetsDownFailsFastUntilBackoffPasses(t *testing.T) {
	a, b := newFake(t, rcode(dns.RcodeRefused)), newFake(t, rcode(dns.RcodeNotImplemented))
	clk, obs := newClock(), &observer{}
	g := newTestGroup(t, GroupOptions{Targets: []string{a.addr, b.addr}, FailThreshold: 1, Now: clk.Now, Observer: obs})

	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); !errors.Is(err, ErrNoAnswer) || errors.Is(err, ErrAllDown) {
		t.Fatalf("first query: err = %v, want ErrNoAnswer after trying both", err)
	}
	_, err := g.Exchange(context.Background(), newReq("www.example.com"))
	if !errors.Is(err, ErrAllDown) || !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("all down: err = %v, want ErrAllDown and ErrNoAnswer", err)
	}
	if requests, _ := obs.snapshot(); len(requests) != 2 || a.s.Hits() != 1 || b.s.Hits() != 1 {
		t.Errorf("attempts %v, hits %d/%d: want no attempt while all are down", requests, a.s.Hits(), b.s.Hits())
	}

	clk.Advance(time.Second)
	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); errors.Is(err, ErrAllDown) {
		t.Fatalf("after back-off: err = %v, want probes to be sent", err)
	}
	if a.s.Hits() != 2 || b.s.Hits() != 2 {
		t.Errorf("hits %d/%d after back-off, want both probed", a.s.Hits(), b.s.Hits())
	}
}

func TestInFlightCap(t *testing.T) {
	tests := []struct {
		name      string
		secondary bool
		wantErr   error
	}{
		{"single target at cap is ErrOverloaded", false, ErrOverloaded},
		{"query skips a target at cap", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gt := newGate()
			a := newFake(t, gt.wrap(answer("192.0.2.1")))
			t.Cleanup(gt.open)
			targets := []string{a.addr}
			if tt.secondary {
				targets = append(targets, newFake(t, answer("192.0.2.2")).addr)
			}
			g := newTestGroup(t, GroupOptions{Targets: targets, MaxInFlight: 1, Timeout: 2 * time.Second})

			first := make(chan error, 1)
			go func() {
				_, err := g.Exchange(context.Background(), newReq("www.example.com"))
				first <- err
			}()
			<-gt.entered
			m, err := g.Exchange(context.Background(), newReq("www.example.com"))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				wantA(t, m, "192.0.2.2")
			}
			if got := a.s.Hits(); got != 1 {
				t.Errorf("hits on capped target = %d, want 1", got)
			}
			gt.open()
			if err := <-first; err != nil {
				t.Errorf("first query: %v", err)
			}
		})
	}
}

func TestServfailFailsOverWithoutMarkingTheTargetDown(t *testing.T) {
	a, b := newFake(t, rcode(dns.RcodeServerFailure)), newFake(t, answer("192.0.2.2"))
	obs := &observer{}
	g := newTestGroup(t, GroupOptions{Targets: []string{a.addr, b.addr}, FailThreshold: 1, Now: newClock().Now, Observer: obs})
	for i := 0; i < 3; i++ {
		m, err := g.Exchange(context.Background(), newReq("broken.example.com"))
		if err != nil {
			t.Fatal(err)
		}
		wantA(t, m, "192.0.2.2")
	}
	if got := a.s.Hits(); got != 3 {
		t.Errorf("hits on a = %d, want 3: a SERVFAIL for one name must not take the target out", got)
	}
	if _, health := obs.snapshot(); strings.Contains(strings.Join(health, ","), "down") {
		t.Errorf("health reports %v, want no target down", health)
	}
}

func TestTimeoutsOfSomeNamesDoNotDownATargetThatAnswersOthers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		slow     int  // names timing out at once, after 10 answered
		wantDown bool // a third of recent attempts failing is too many
	}{
		{"a few slow names", 3, false},
		{"most queries lost", 9, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entered := make(chan struct{}, tc.slow)
			a := newFake(t, func(w dns.ResponseWriter, r *dns.Msg) {
				if strings.HasPrefix(r.Question[0].Name, "slow") {
					entered <- struct{}{} // and never answered: this name's servers are dead
					return
				}
				answer("192.0.2.1")(w, r)
			})
			obs := &observer{}
			g := newTestGroup(t, GroupOptions{Targets: []string{a.addr}, FailThreshold: 2, Timeout: 300 * time.Millisecond, Observer: obs})
			ask := func(name string) error {
				_, err := g.Exchange(context.Background(), newReq(name))
				return err
			}
			for i := range 10 {
				if err := ask(fmt.Sprintf("www%d.example.com", i)); err != nil {
					t.Fatal(err)
				}
			}
			failed := make(chan error, tc.slow)
			for i := range tc.slow {
				go func() { failed <- ask(fmt.Sprintf("slow%d.example.com", i)) }()
			}
			for range tc.slow {
				<-entered
			}
			if err := ask("good.example.com"); err != nil { // answered while they wait
				t.Fatal(err)
			}
			for range tc.slow {
				if err := <-failed; !errors.Is(err, ErrNoAnswer) {
					t.Fatalf("a slow name: %v, want ErrNoAnswer", err)
				}
			}
			_, health := obs.snapshot()
			if down := slices.Contains(health, a.addr+" down"); down != tc.wantDown {
				t.Errorf("health reports %v; want down %v", health, tc.wantDown)
			}
			if err := ask("after.example.com"); (err != nil) != tc.wantDown {
				t.Errorf("the next name: %v; want it skipped %v", err, tc.wantDown)
			}
		})
	}
}

func TestGroupsShareTheHealthOfATarget(t *testing.T) {
	a := newFake(t, rcode(dns.RcodeRefused))
	b := newFake(t, answer("192.0.2.2"))
	obs, healths := &observer{}, NewHealths()
	first := newTestGroup(t, GroupOptions{Targets: []string{a.addr, b.addr}, FailThreshold: 1, Observer: obs, Healths: healths})
	if _, err := first.Exchange(context.Background(), newReq("www.example.com")); err != nil {
		t.Fatal(err) // a is down
	}
	// A second group with a (a forwarding rule, or the same route built
	// again by a reload) knows it is down: no query, no "up" report.
	second := newTestGroup(t, GroupOptions{Name: "rule", Targets: []string{a.addr}, FailThreshold: 1, Observer: obs, Healths: healths})
	if _, err := second.Exchange(context.Background(), newReq("www.example.com")); !errors.Is(err, ErrAllDown) {
		t.Errorf("the second group's query: %v, want ErrAllDown", err)
	}
	if a.s.Hits() != 1 {
		t.Errorf("hits on a = %d, want 1", a.s.Hits())
	}
	want := []string{a.addr + " up", b.addr + " up", a.addr + " down"}
	if _, health := obs.snapshot(); !slices.Equal(health, want) {
		t.Errorf("health reports %v, want %v", health, want)
	}
	// Forgotten (no longer configured), a's changes are not reported,
	// and a group built with it afterwards starts afresh.
	healths.Forget(a.addr)
	a2 := newTestGroup(t, GroupOptions{Targets: []string{a.addr}, FailThreshold: 1, Observer: obs, Healths: healths})
	if a2.targets[0].health.isDown() {
		t.Error("a target configured again is still down")
	}
	want = append(want, a.addr+" up")
	first.publish(first.targets[0], true, 99, nil) // the old group sees a come back
	if _, health := obs.snapshot(); !slices.Equal(health, want) {
		t.Errorf("health reports %v, want %v", health, want)
	}
}

func TestAQueryNoOtherTargetAnswersGetsTheProbedTargetsAnswer(t *testing.T) {
	// a goes down; when its back-off is over it is back, but the other
	// target fails the query that probes it: that query gets a's answer,
	// whether b comes after a (a is probed on the side, and the query
	// waits for it once b failed) or before (a is probed inline).
	for _, bFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("b first %v", bFirst), func(t *testing.T) {
			var aOK atomic.Bool
			a := newFake(t, switchable(&aOK, "192.0.2.1"))
			b := newFake(t, rcode(dns.RcodeServerFailure)) // fails over, never charged
			targets := []string{a.addr, b.addr}
			if bFirst {
				targets = []string{b.addr, a.addr}
			}
			clk := newClock()
			g := newTestGroup(t, GroupOptions{Targets: targets, FailThreshold: 2, Now: clk.Now})
			for range 2 {
				if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err == nil {
					t.Fatal("an answer while both fail")
				}
			}
			if !g.targets[slices.Index(targets, a.addr)].health.isDown() {
				t.Fatal("a is not down after two failures")
			}
			aOK.Store(true)
			wantBackAfterBackoff(t, g, clk)
		})
	}
}

func TestAHealthChangePublishedLateIsDropped(t *testing.T) {
	a := newFake(t, answer("192.0.2.1"))
	obs := &observer{}
	g := newTestGroup(t, GroupOptions{Targets: []string{a.addr}, Observer: obs})
	tg := g.targets[0]
	// Change 1 (down) reaches publish after change 2 (up).
	g.publish(tg, true, 2, nil)
	g.publish(tg, false, 1, errors.New("timeout"))
	if _, health := obs.snapshot(); !slices.Equal(health, []string{a.addr + " up", a.addr + " up"}) {
		t.Errorf("health reports %v: the older change overwrote the newer", health)
	}
}

func TestALaterTargetThatIsDownIsProbedWhenItsBackoffIsOver(t *testing.T) {
	// Sequential: b is asked only when a fails. Once b is down, the
	// queries a answers probe b on the side when its back-off is over.
	var aOK, bOK atomic.Bool
	a := newFake(t, func(w dns.ResponseWriter, r *dns.Msg) {
		if aOK.Load() {
			answer("192.0.2.1")(w, r)
			return
		}
		rcode(dns.RcodeServerFailure)(w, r) // fails over without charging a
	})
	b := newFake(t, switchable(&bOK, "192.0.2.2"))
	clk, obs := newClock(), &observer{}
	g := newTestGroup(t, GroupOptions{Targets: []string{a.addr, b.addr}, FailThreshold: 1, Now: clk.Now, Observer: obs})
	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err == nil {
		t.Fatal("an answer while a SERVFAILs and b REFUSEs")
	}
	aOK.Store(true)
	bOK.Store(true)
	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err != nil {
		t.Fatal(err)
	}
	g.probes.Wait()
	if b.s.Hits() != 1 {
		t.Fatalf("hits on b = %d before its back-off is over, want 1", b.s.Hits())
	}
	clk.Advance(time.Second)
	m, err := g.Exchange(context.Background(), newReq("www.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	wantA(t, m, "192.0.2.1")
	g.probes.Wait()
	want := []string{a.addr + " up", b.addr + " up", b.addr + " down", b.addr + " up"}
	if _, health := obs.snapshot(); !slices.Equal(health, want) || b.s.Hits() != 2 {
		t.Errorf("health reports %v, hits on b %d; want %v and 2", health, b.s.Hits(), want)
	}
}

func TestAQueryWaitsForEveryTargetItProbedOnTheSide(t *testing.T) {
	// Sequential [a, b, c]: a and b are down and due; a is back, b still
	// refuses, c fails the query. The query takes a's answer, whichever
	// probe reports first.
	var aOK atomic.Bool
	a := newFake(t, switchable(&aOK, "192.0.2.1"))
	b := newFake(t, rcode(dns.RcodeRefused))
	c := newFake(t, rcode(dns.RcodeServerFailure)) // never charged
	clk := newClock()
	g := newTestGroup(t, GroupOptions{Targets: []string{a.addr, b.addr, c.addr}, FailThreshold: 1, Now: clk.Now})
	if _, err := g.Exchange(context.Background(), newReq("www.example.com")); err == nil {
		t.Fatal("an answer while every target fails")
	}
	if !g.targets[0].health.isDown() || !g.targets[1].health.isDown() {
		t.Fatal("a and b are not down")
	}
	aOK.Store(true)
	wantBackAfterBackoff(t, g, clk)
}

// wantBackAfterBackoff checks that once a's back-off of 1 s is over, a
// query gets a's answer (192.0.2.1).
func wantBackAfterBackoff(t *testing.T, g *Group, clk *resolvertest.Clock) {
	t.Helper()
	clk.Advance(time.Second)
	m, err := g.Exchange(context.Background(), newReq("www.example.com"))
	if err != nil {
		t.Fatalf("a is back but the query failed: %v", err)
	}
	wantA(t, m, "192.0.2.1")
}

// An up target is admitted without its health's lock: queries to a
// healthy upstream never queue behind each other's reports.
func TestAnUpTargetIsAdmittedWithoutTheLock(t *testing.T) {
	h := &health{threshold: 3, base: time.Second, max: 30 * time.Second}
	h.mu.Lock() // as a report in progress would
	admitted := make(chan bool, 1)
	go func() { ok, _ := h.admit(time.Now()); admitted <- ok }()
	select {
	case ok := <-admitted:
		if !ok {
			t.Error("an up target was not admitted")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("admit waited on the lock of an up target")
	}
	h.mu.Unlock()
}
