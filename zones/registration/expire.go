package registration

import (
	"context"
	"time"
)

// maxWait bounds Run's sleep, so a reload that shortens expireAfter is
// honoured within it.
const maxWait = time.Minute

// Expire removes the address registrations not renewed within
// expireAfter as of now, journaled as one change, and returns how many it
// removed. Run calls it as registrations lapse; Update calls it first.
func (r *Registry) Expire(now time.Time) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.expireLocked(now)
}

func (r *Registry) expireLocked(now time.Time) (int, error) {
	st := r.cur.Load()
	if st.nextExpiry.IsZero() || now.Before(st.nextExpiry) {
		return 0, nil
	}
	next := &state{manual: st.manual, names: clone(st.names), serial: st.serial + 1, digest: st.digest}
	var gone []nameState
	for _, name := range sortedNames(st.names) {
		if t := st.names[name].expires(r.set.ExpireAfter); !t.IsZero() && !now.Before(t) {
			delete(next.names, name)
			gone = append(gone, nameState{Name: name})
		}
	}
	if len(gone) == 0 {
		return 0, nil // not reached: nextExpiry was due
	}
	if err := r.finish(next); err != nil {
		return 0, err
	}
	if err := r.appendRecord(record{Serial: next.serial, Names: gone}, next); err != nil {
		r.log.Error("registration: journal append failed, registrations not expired", "err", err)
		return 0, err
	}
	for _, g := range gone {
		r.log.Info("registration expired", "name", g.Name, "by", st.names[g.Name].owner.String())
	}
	r.publish(next)
	return len(gone), nil
}

// Run removes registrations as they lapse (with Options.After as its
// timer) until ctx ends.
func (r *Registry) Run(ctx context.Context) {
	for {
		wait := maxWait
		if next := r.cur.Load().nextExpiry; !next.IsZero() {
			wait = min(max(next.Sub(r.now()), 0), maxWait)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			continue
		case <-r.after(wait):
		}
		if _, err := r.Expire(r.now()); err != nil {
			select { // retry, but not in a loop
			case <-ctx.Done():
				return
			case <-r.after(time.Second):
			}
		}
	}
}
