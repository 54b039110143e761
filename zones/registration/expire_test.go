package registration

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestExpiryRemovesUnrenewedAddressRegistrations(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.update(dhcp, dns.RcodeSuccess, "up h1 0 IN A 10.2.0.1")
	w.clock.Add(time.Hour - time.Second)
	if n, _ := w.reg.Expire(w.clock.Now()); n != 0 {
		t.Fatal("expired before expireAfter")
	}
	serial := w.serial()
	w.clock.Add(time.Second)
	if n, err := w.reg.Expire(w.clock.Now()); n != 1 || err != nil {
		t.Fatalf("Expire = %d, %v; want the client's registration", n, err)
	}
	w.wantServed("vm", dns.TypeA)
	w.wantServed("h1", dns.TypeA, "h1.corp.example. 10 IN A 10.2.0.1")
	if w.serial() != serial+1 || w.reg.PTR("4.0.1.10.in-addr.arpa.") != nil {
		t.Errorf("after expiry: serial %d (was %d), PTR %v", w.serial(), serial, w.reg.PTR("4.0.1.10.in-addr.arpa."))
	}
}

func TestAnExpiredNameIsFreeForAnotherAddressBeforeExpireRuns(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.update(vm2, dns.RcodeRefused, "up vm 0 IN A 10.1.0.5")
	w.clock.Add(time.Hour)
	w.update(vm2, dns.RcodeSuccess, "pre vm 0 NONE ANY", "up vm 0 IN A 10.1.0.5")
	w.wantServed("vm", dns.TypeA, "vm.corp.example. 10 IN A 10.1.0.5")
}

func TestNoExpiryWithExpireAfterZero(t *testing.T) {
	w := newWorld(t, func(o *Options) { o.ExpireAfter = 0 })
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.clock.Add(1000 * time.Hour)
	if n, _ := w.reg.Expire(w.clock.Now()); n != 0 || w.reg.Registrations() != 1 {
		t.Fatal("expired with expireAfter 0")
	}
	if r, _ := w.reg.Lookup("vm." + apex); !r.Expires.IsZero() {
		t.Errorf("Expires = %v, want never", r.Expires)
	}
}

func TestExpiryGoesOnAcrossRestarts(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.clock.Add(30 * time.Minute)
	w.update(vm2, dns.RcodeSuccess, "up vm2 0 IN A 10.1.0.5")
	w.clock.Add(20 * time.Minute)
	w.restart()
	if r, ok := w.reg.Lookup("vm." + apex); !ok || !r.Since.Equal(t0) || !r.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a restart Lookup(vm) = %+v, %v: registration times lost", r, ok)
	}
	w.reg.Close()
	w.clock.Add(20 * time.Minute) // down across vm's expiry, not vm2's
	serial := w.serial()
	w.open()
	if w.reg.Registrations() != 1 || w.served("vm2", dns.TypeA) == nil {
		t.Fatalf("after a restart past vm's expiry: %d names", w.reg.Registrations())
	}
	if w.serial() != serial+1 {
		t.Errorf("serial %d after expiry while stopped, was %d", w.serial(), serial)
	}
}

// TestRunExpiresWithItsTimer drives Run with a fake timer: it sleeps
// until the next expiry and removes the registration then.
func TestRunExpiresWithItsTimer(t *testing.T) {
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	w := newWorld(t, func(o *Options) {
		o.After = func(d time.Duration) <-chan time.Time {
			select {
			case waits <- d:
			case <-ctx.Done():
			}
			return fire
		}
	})
	done := make(chan struct{})
	go func() { w.reg.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if d := <-waits; d != maxWait {
		t.Fatalf("Run waits %v with nothing to expire, want %v", d, maxWait)
	}
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4") // wakes Run
	if d := <-waits; d != time.Minute {                      // maxWait bounds the hour
		t.Fatalf("Run waits %v, want %v", d, time.Minute)
	}
	w.clock.Add(59*time.Minute + 30*time.Second)
	fire <- w.clock.Now()
	if d := <-waits; d != 30*time.Second {
		t.Fatalf("Run waits %v with 30s left, want 30s", d)
	}
	w.clock.Add(30 * time.Second)
	fire <- w.clock.Now()
	<-waits // Run is back asleep: the expiry is done
	if w.reg.Registrations() != 0 {
		t.Fatal("Run did not expire the registration")
	}
}
