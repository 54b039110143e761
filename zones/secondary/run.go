package secondary

import (
	"context"
	"time"

	"github.com/miekg/dns"
	"github.com/privdns/privdns/zones"
)

// minInterval is the floor of SOA timers (R12 honours them down to 1 s).
const minInterval = time.Second

func seconds(v uint32) time.Duration { return max(time.Duration(v)*time.Second, minInterval) }

func expireOf(soa *dns.SOA) time.Duration { return seconds(soa.Expire) }

// Run checks the zone at once, then on its SOA timers and on Notify, until
// ctx ends. Call it once, in its own goroutine.
func (s *Secondary) Run(ctx context.Context) {
	due := true
	var last time.Time // last check attempted
	for {
		if due {
			last = s.opts.Now()
			s.check(ctx, last)
			due = false
		}
		now := s.opts.Now()
		s.expire(now)
		next := last.Add(s.interval())
		wake := next
		if at, ok := s.expiresAt(); ok && at.Before(wake) && s.cur.Load() != nil {
			wake = at
		}
		select {
		case <-ctx.Done():
			return
		case <-s.notify:
			due = true
		case <-s.opts.After(max(wake.Sub(now), 0)):
			due = !s.opts.Now().Before(next)
		}
	}
}

// check is one refresh, counted for Sync.
func (s *Secondary) check(ctx context.Context, now time.Time) {
	s.mu.Lock()
	s.checks.started++
	n := s.checks.started
	s.mu.Unlock()
	s.refresh(ctx, now)
	s.mu.Lock()
	s.checks.finished = n
	if s.checks.ended != nil {
		close(s.checks.ended)
		s.checks.ended = nil
	}
	s.mu.Unlock()
}

// interval is the time to the next check: the SOA refresh after a
// success, its retry after a failure.
func (s *Secondary) interval() time.Duration {
	switch {
	case s.soa == nil:
		return s.opts.RetryWithoutData
	case s.failed:
		return seconds(s.soa.Retry)
	}
	return seconds(s.soa.Refresh)
}

// expiresAt is when the data held expires, counted from the last
// successful check.
func (s *Secondary) expiresAt() (time.Time, bool) {
	if s.soa == nil {
		return time.Time{}, false
	}
	return s.Status().LastSuccess.Add(expireOf(s.soa)), true
}

// expire stops serving the data once its primaries have been unreachable
// for the SOA expire (R12).
func (s *Secondary) expire(now time.Time) {
	at, ok := s.expiresAt()
	if !ok || now.Before(at) || s.cur.Load() == nil {
		return
	}
	s.cur.Store(nil)
	s.changed(nil)
	s.setStatus(func(st *Status) { st.Expired = true })
	s.metrics.Expired(s.zone, true)
	s.log.Error("zone expired: no primary answered for the SOA expire; answering SERVFAIL until a transfer succeeds",
		"serial", s.soa.Serial, "expire", expireOf(s.soa), "lastSuccess", s.Status().LastSuccess)
}

// serve puts the data held in place after a successful check.
func (s *Secondary) serve(now time.Time, source string) {
	s.failed = false
	wasExpired := s.Status().Expired
	s.setStatus(func(st *Status) {
		st.LastSuccess, st.Expired, st.LastError, st.HasData, st.Serial = now, false, "", true, s.soa.Serial
		if source != "" {
			st.Source = source
		}
	})
	s.metrics.Expired(s.zone, false)
	s.metrics.Serial(s.zone, s.soa.Serial)
	old := s.cur.Swap(s.zdata)
	if old == nil && wasExpired {
		s.log.Info("zone no longer expired", "serial", s.soa.Serial)
	}
	if old != s.zdata {
		s.changed(s.zdata)
	}
}

// changed tells OnChange, at once, that the data answered from changed:
// what was kept of the old data (ready-made replies) must not outlive it.
func (s *Secondary) changed(z *zones.Zone) {
	if s.opts.OnChange != nil {
		s.opts.OnChange(z)
	}
}
