package xfr

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// notifyTarget is a secondary's NOTIFY listener: it ignores the first
// drop requests, then answers rcode, and remembers what it saw.
type notifyTarget struct {
	drop    int64
	rcode   int
	seen    atomic.Int64
	mu      sync.Mutex
	sources []netip.Addr
	signed  []bool
}

func (nt *notifyTarget) start(t *testing.T, kr Keyring) string {
	t.Helper()
	addr, _ := startServer(t, kr, func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Opcode != dns.OpcodeNotify || r.Question[0].Qtype != dns.TypeSOA {
			t.Errorf("not a NOTIFY: %v", r)
			return
		}
		nt.mu.Lock()
		nt.sources = append(nt.sources, Source(w))
		nt.signed = append(nt.signed, r.IsTsig() != nil && w.TsigStatus() == nil)
		nt.mu.Unlock()
		if nt.seen.Add(1) <= nt.drop {
			return
		}
		if TSIGFailed(w, r) {
			ReplyTSIGError(w, r)
			return
		}
		Reply(w, r, nt.rcode)
	})
	return addr
}

// instantAfter is a clock whose pauses end at once, counting them.
func instantAfter(n *atomic.Int64) func(time.Duration) <-chan time.Time {
	return func(d time.Duration) <-chan time.Time {
		n.Add(1)
		c := make(chan time.Time, 1)
		c <- time.Now()
		return c
	}
}

func testSOA(t *testing.T) *dns.SOA {
	return mustZone(t, "corp.example", zoneV1...).SOA()
}

func TestNotifyIsRetriedUntilAcknowledged(t *testing.T) {
	nt := &notifyTarget{drop: 2, rcode: dns.RcodeSuccess}
	addr := nt.start(t, nil)
	var pauses atomic.Int64
	n := NewNotifier(NotifierOptions{Source: netip.MustParseAddr("127.0.0.7"), Timeout: 100 * time.Millisecond, After: instantAfter(&pauses)})
	if err := n.Send(context.Background(), "corp.example.", testSOA(t), addr, nil); err != nil {
		t.Fatal(err)
	}
	if nt.seen.Load() != 3 || pauses.Load() != 2 {
		t.Errorf("target saw %d NOTIFYs after %d pauses, want 3 after 2", nt.seen.Load(), pauses.Load())
	}
	for _, src := range nt.sources {
		if src != netip.MustParseAddr("127.0.0.7") {
			t.Errorf("NOTIFY came from %s, want the configured source 127.0.0.7", src)
		}
	}
}

func TestNotifyGivesUpAfterFiveTries(t *testing.T) {
	nt := &notifyTarget{drop: 100}
	addr := nt.start(t, nil)
	var pauses atomic.Int64
	n := NewNotifier(NotifierOptions{Timeout: 50 * time.Millisecond, After: instantAfter(&pauses)})
	err := n.Send(context.Background(), "corp.example.", testSOA(t), addr, nil)
	if !errors.Is(err, ErrNotAcknowledged) || nt.seen.Load() != 5 {
		t.Errorf("Send = %v after %d NOTIFYs, want ErrNotAcknowledged after 5", err, nt.seen.Load())
	}
}

func TestNotifyStopsAtARefusal(t *testing.T) {
	nt := &notifyTarget{rcode: dns.RcodeRefused}
	addr := nt.start(t, nil)
	var pauses atomic.Int64
	n := NewNotifier(NotifierOptions{After: instantAfter(&pauses)})
	err := n.Send(context.Background(), "corp.example.", testSOA(t), addr, nil)
	if err == nil || !strings.Contains(err.Error(), "REFUSED") || nt.seen.Load() != 1 {
		t.Errorf("Send = %v after %d NOTIFYs, want a REFUSED error after 1", err, nt.seen.Load())
	}
}

func TestNotifyIsSignedWithTheKey(t *testing.T) {
	key := mustKey(t, "xfr", "hmac-sha256", secretA)
	nt := &notifyTarget{rcode: dns.RcodeSuccess}
	addr := nt.start(t, NewKeyring(key))
	n := NewNotifier(NotifierOptions{})
	if err := n.Send(context.Background(), "corp.example.", testSOA(t), addr, key); err != nil {
		t.Fatal(err) // the client verifies the signed acknowledgement too
	}
	nt.mu.Lock()
	defer nt.mu.Unlock()
	if len(nt.signed) != 1 || !nt.signed[0] {
		t.Errorf("target saw signed = %v, want one verified signed NOTIFY", nt.signed)
	}
	// A target holding another secret answers NOTAUTH, and that is final.
	bad := &notifyTarget{rcode: dns.RcodeSuccess}
	badAddr := bad.start(t, NewKeyring(mustKey(t, "xfr", "hmac-sha256", secretB)))
	if err := n.Send(context.Background(), "corp.example.", testSOA(t), badAddr, key); err == nil || !strings.Contains(err.Error(), "NOTAUTH") || bad.seen.Load() != 1 {
		t.Errorf("Send under the wrong secret = %v after %d NOTIFYs, want NOTAUTH after 1", err, bad.seen.Load())
	}
	// An unsigned acknowledgement of a signed NOTIFY is no acknowledgement.
	unsigned := &notifyTarget{rcode: dns.RcodeSuccess}
	unsignedAddr := unsigned.start(t, nil) // no keyring: cannot sign its reply
	var pauses atomic.Int64
	n2 := NewNotifier(NotifierOptions{Timeout: 100 * time.Millisecond, After: instantAfter(&pauses)})
	if err := n2.Send(context.Background(), "corp.example.", testSOA(t), unsignedAddr, key); !errors.Is(err, ErrNotAcknowledged) {
		t.Errorf("Send with unsigned acknowledgements = %v, want ErrNotAcknowledged", err)
	}
}

func TestNotifyToEveryTargetInTheBackground(t *testing.T) {
	a, b := &notifyTarget{rcode: dns.RcodeSuccess}, &notifyTarget{drop: 1, rcode: dns.RcodeSuccess}
	var pauses atomic.Int64
	n := NewNotifier(NotifierOptions{Timeout: 100 * time.Millisecond, After: instantAfter(&pauses)})
	n.Notify(context.Background(), "corp.example.", testSOA(t), []string{a.start(t, nil), b.start(t, nil)}, nil)
	n.Wait()
	if a.seen.Load() != 1 || b.seen.Load() != 2 {
		t.Errorf("targets saw %d and %d NOTIFYs, want 1 and 2", a.seen.Load(), b.seen.Load())
	}
}

func TestANewerNotifySupersedesARetryingOne(t *testing.T) {
	nt := &notifyTarget{drop: 1000}
	addr := nt.start(t, nil)
	paused := make(chan struct{}, 10)
	n := NewNotifier(NotifierOptions{Timeout: 50 * time.Millisecond, After: func(time.Duration) <-chan time.Time {
		paused <- struct{}{}
		return nil // never ends: a NOTIFY waiting to retry waits until superseded
	}})
	n.Notify(context.Background(), "corp.example.", testSOA(t), []string{addr}, nil)
	<-paused // the first try failed; it waits to retry
	n.Notify(context.Background(), "corp.example.", testSOA(t), []string{addr}, nil)
	<-paused
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.Notify(ctx, "corp.example.", testSOA(t), []string{addr}, nil) // cancelled: ends the second
	n.Wait()                                                        // returns only if both waiting ones ended
	if got := nt.seen.Load(); got != 2 {
		t.Errorf("target saw %d NOTIFYs, want 2 (one per superseded NOTIFY)", got)
	}
}
