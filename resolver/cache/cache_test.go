package cache

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestHitAfterMissAsksUpstreamOnce(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)

	ask(t, ex, query("www.example.com.", dns.TypeA))
	req := query("www.example.com.", dns.TypeA)
	req.Id = 4242
	resp := ask(t, ex, req)

	wantCalls(t, up, 1)
	if resp.Id != 4242 {
		t.Errorf("reply ID %d, want the request's 4242", resp.Id)
	}
	if opt := resp.IsEdns0(); opt != nil {
		t.Errorf("cached reply carries the upstream's OPT %v; the caller adds its own", opt)
	}
	if len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "192.0.2.1" {
		t.Errorf("answer %v, want the upstream's A record", resp.Answer)
	}
	if got := c.Stats(); got != (Stats{Hits: 1, Misses: 1, Entries: 1}) {
		t.Errorf("Stats %+v, want 1 hit, 1 miss, 1 entry", got)
	}
}

func TestRepliesAreCopiesCallersMayChange(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)

	first := ask(t, ex, query("www.example.com.", dns.TypeA))
	first.Answer[0].(*dns.A).A[15] = 99
	first.Answer[0].Header().Ttl = 1
	second := ask(t, ex, query("www.example.com.", dns.TypeA))

	if got := second.Answer[0].String(); got != "www.example.com.\t300\tIN\tA\t192.0.2.1" {
		t.Errorf("second reply %q was changed through the first", got)
	}
}

func TestTTLCountsDownWithTheClock(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration
		wantTTL uint32
	}{
		{"just stored", 0, 300},
		{"30s later", 30 * time.Second, 270},
		{"partial seconds round down the elapsed time", 30*time.Second + 900*time.Millisecond, 270},
		{"last second", 299 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clock := newTestCache(t, Options{})
			up := newUpstream(replyWith(t, dns.RcodeSuccess,
				[]string{"@ 300 IN CNAME b.example.com.", "b.example.com. 600 IN A 192.0.2.1"}))
			ex := c.Wrap("", up)
			ask(t, ex, query("a.example.com.", dns.TypeA))
			clock.Advance(tt.after)
			resp := ask(t, ex, query("a.example.com.", dns.TypeA))
			wantCalls(t, up, 1)
			if got := resp.Answer[0].Header().Ttl; got != tt.wantTTL {
				t.Errorf("CNAME TTL %d, want %d", got, tt.wantTTL)
			}
			if got, want := resp.Answer[1].Header().Ttl, 600-(300-tt.wantTTL); got != want {
				t.Errorf("A TTL %d, want %d (its own TTL counted down)", got, want)
			}
		})
	}
}

func TestEntryExpiresAfterSmallestAnswerTTL(t *testing.T) {
	c, clock := newTestCache(t, Options{})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1", "@ 60 IN A 192.0.2.2"}))
	ex := c.Wrap("", up)
	ask(t, ex, query("a.example.com.", dns.TypeA))
	clock.Advance(60 * time.Second)
	ask(t, ex, query("a.example.com.", dns.TypeA))
	wantCalls(t, up, 2)
}

func TestTTLClamps(t *testing.T) {
	tests := []struct {
		name      string
		recordTTL string
		min, max  time.Duration
		wantTTL   uint32        // shown right after storing
		cachedFor time.Duration // hit one second before, miss at
	}{
		{"MinTTL raises a short TTL", "5", time.Minute, 0, 60, time.Minute},
		{"MaxTTL lowers a long TTL", "7200", 0, time.Hour, 3600, time.Hour},
		{"a TTL inside the range is kept", "300", time.Minute, time.Hour, 300, 300 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clock := newTestCache(t, Options{MinTTL: tt.min, MaxTTL: tt.max})
			up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ " + tt.recordTTL + " IN A 192.0.2.1"}))
			ex := c.Wrap("", up)

			wantTTLs(t, ask(t, ex, query("a.example.com.", dns.TypeA)), tt.wantTTL)
			clock.Advance(tt.cachedFor - time.Second)
			wantTTLs(t, ask(t, ex, query("a.example.com.", dns.TypeA)), 1)
			wantCalls(t, up, 1)
			clock.Advance(time.Second)
			ask(t, ex, query("a.example.com.", dns.TypeA))
			wantCalls(t, up, 2)
		})
	}
}

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	c, _ := newTestCache(t, Options{MaxEntries: 2})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)

	ask(t, ex, query("a.example.", dns.TypeA))
	ask(t, ex, query("b.example.", dns.TypeA))
	ask(t, ex, query("a.example.", dns.TypeA)) // a is now the most recently used
	ask(t, ex, query("c.example.", dns.TypeA)) // evicts b
	wantCalls(t, up, 3)
	if got := c.Stats().Entries; got != 2 {
		t.Errorf("Entries %d, want 2", got)
	}

	ask(t, ex, query("a.example.", dns.TypeA))
	wantCalls(t, up, 3)
	ask(t, ex, query("b.example.", dns.TypeA))
	wantCalls(t, up, 4)
}

func TestKeySeparatesWhatChangesTheAnswer(t *testing.T) {
	base := func() *dns.Msg { return query("www.example.com.", dns.TypeA) }
	tests := []struct {
		name      string
		route     string
		req       func() *dns.Msg
		wantSplit bool
	}{
		{"same question is shared", "", base, false},
		{"name case is ignored", "", func() *dns.Msg { return query("WWW.Example.COM.", dns.TypeA) }, false},
		{"other name", "", func() *dns.Msg { return query("www2.example.com.", dns.TypeA) }, true},
		{"qtype", "", func() *dns.Msg { return query("www.example.com.", dns.TypeAAAA) }, true},
		{"class", "", func() *dns.Msg { m := base(); m.Question[0].Qclass = dns.ClassCHAOS; return m }, true},
		{"DO bit", "", func() *dns.Msg { m := base(); m.SetEdns0(1232, true); return m }, true},
		{"EDNS without DO is shared", "", func() *dns.Msg { m := base(); m.SetEdns0(1232, false); return m }, false},
		{"CD bit", "", func() *dns.Msg { m := base(); m.CheckingDisabled = true; return m }, true},
		{"route", "onprem/corp.contoso.com.", base, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Options{})
			up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
			ask(t, c.Wrap("", up), base())
			ask(t, c.Wrap(tt.route, up), tt.req())
			want := int64(1)
			if tt.wantSplit {
				want = 2
			}
			wantCalls(t, up, want)
		})
	}
}

func TestQuestionEchoedAsTheClientAskedIt(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	ask(t, ex, query("www.example.com.", dns.TypeA))
	resp := ask(t, ex, query("wWw.ExAmPle.cOm.", dns.TypeA))
	wantCalls(t, up, 1)
	if got := resp.Question[0].Name; got != "wWw.ExAmPle.cOm." {
		t.Errorf("question %q, want the client's case wWw.ExAmPle.cOm.", got)
	}
}

func TestNotCached(t *testing.T) {
	tests := []struct {
		name   string
		answer func(t *testing.T) func(*dns.Msg) (*dns.Msg, error)
		req    func() *dns.Msg
	}{
		{"TTL 0", func(t *testing.T) func(*dns.Msg) (*dns.Msg, error) {
			return replyWith(t, dns.RcodeSuccess, []string{"@ 0 IN A 192.0.2.1"})
		}, nil},
		{"truncated", func(t *testing.T) func(*dns.Msg) (*dns.Msg, error) {
			full := replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"})
			return func(req *dns.Msg) (*dns.Msg, error) {
				m, err := full(req)
				m.Truncated = true
				return m, err
			}
		}, nil},
		{"SERVFAIL passed on as a reply", func(t *testing.T) func(*dns.Msg) (*dns.Msg, error) {
			return replyWith(t, dns.RcodeServerFailure, nil)
		}, nil},
		{"an RR miekg cannot pack (answered, as it came)", func(*testing.T) func(*dns.Msg) (*dns.Msg, error) {
			return unpackable
		}, nil},
		{"two questions pass through", func(t *testing.T) func(*dns.Msg) (*dns.Msg, error) {
			return replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"})
		}, func() *dns.Msg {
			m := query("a.example.", dns.TypeA)
			m.Question = append(m.Question, dns.Question{Name: "b.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
			return m
		}},
		{"non-QUERY opcode passes through", func(t *testing.T) func(*dns.Msg) (*dns.Msg, error) {
			return replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"})
		}, func() *dns.Msg { m := query("a.example.", dns.TypeA); m.Opcode = dns.OpcodeNotify; return m }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Options{})
			up := newUpstream(tt.answer(t))
			ex := c.Wrap("", up)
			req := tt.req
			if req == nil {
				req = func() *dns.Msg { return query("a.example.", dns.TypeA) }
			}
			ask(t, ex, req())
			ask(t, ex, req())
			wantCalls(t, up, 2)
			if got := c.Stats().Entries; got != 0 {
				t.Errorf("Entries %d, want 0", got)
			}
		})
	}
}

func TestMaxEntriesZeroPassesThrough(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	if ex != Exchanger(up) {
		t.Errorf("Wrap returned %T, want next itself", ex)
	}
	ask(t, ex, query("a.example.", dns.TypeA))
	ask(t, ex, query("a.example.", dns.TypeA))
	wantCalls(t, up, 2)
	c.Purge()
	if got := c.Stats(); got != (Stats{}) {
		t.Errorf("Stats %+v, want zero", got)
	}
}

func TestPurgeDropsEntries(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	ex := c.Wrap("", up)
	ask(t, ex, query("a.example.", dns.TypeA))
	c.Purge()
	ask(t, ex, query("a.example.", dns.TypeA))
	wantCalls(t, up, 2)
}

func TestRefreshStartedBeforePurgeIsNotStored(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	up.blocking(t)
	ex := c.Wrap("", up)
	done := make(chan error, 1)
	go func() {
		_, err := ex.Exchange(context.Background(), query("a.example.", dns.TypeA))
		done <- err
	}()
	<-up.entered
	c.Purge()
	up.release()
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if got := c.Stats().Entries; got != 0 {
		t.Errorf("Entries %d after Purge during refresh, want 0", got)
	}
}

func TestWaiterGivesUpWithItsContext(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	up := newUpstream(replyWith(t, dns.RcodeSuccess, []string{"@ 300 IN A 192.0.2.1"}))
	up.blocking(t)
	ex := c.Wrap("", up)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ex.Exchange(ctx, query("a.example.", dns.TypeA))
		done <- err
	}()
	<-up.entered
	cancel()
	if err := <-done; err == nil {
		t.Fatal("cancelled waiter got an answer, want its context error")
	}
	up.release()
	c.Wait()
	if got := c.Stats().Entries; got != 1 {
		t.Errorf("Entries %d, want the abandoned refresh stored anyway", got)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"negative MaxEntries", Options{MaxEntries: -1}},
		{"negative duration", Options{MaxEntries: 1, FailureTTL: -time.Second}},
		{"MinTTL above MaxTTL", Options{MaxEntries: 1, MinTTL: time.Hour, MaxTTL: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Error("New accepted bad options")
			}
		})
	}
}
