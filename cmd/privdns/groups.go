package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/privdns/privdns/resolver/upstream"
)

// groupPool keeps upstream groups alive across reloads: a route whose
// targets and settings did not change keeps its group, so its health and
// pooled connections survive the reload.
type groupPool struct {
	live    map[string]*upstream.Group
	healths *upstream.Healths   // shared by every group, old and new
	forget  func(target string) // called for targets no live group has; may be nil
}

// groupTxn collects the groups one configuration uses; commit makes them
// the pool's, abort closes the ones it created.
type groupTxn struct {
	pool    *groupPool
	used    map[string]*upstream.Group
	created []*upstream.Group
}

// closeDelay lets queries that started on a replaced configuration finish
// with its groups before their connections are closed.
const closeDelay = 30 * time.Second

func newGroupPool(forget func(target string)) *groupPool {
	return &groupPool{live: map[string]*upstream.Group{}, healths: upstream.NewHealths(), forget: forget}
}

func (p *groupPool) begin() *groupTxn {
	return &groupTxn{pool: p, used: map[string]*upstream.Group{}}
}

func groupKey(o upstream.GroupOptions) string {
	return fmt.Sprintf("%s|%q|%v|%v", o.Name, o.Targets, o.Policy, o.Timeout)
}

// get returns the pool's group for opts, or a new one.
func (t *groupTxn) get(opts upstream.GroupOptions) (*upstream.Group, error) {
	opts.Healths = t.pool.healths
	key := groupKey(opts)
	if g := t.used[key]; g != nil {
		return g, nil
	}
	g := t.pool.live[key]
	if g == nil {
		var err error
		if g, err = upstream.NewGroup(opts); err != nil {
			return nil, err
		}
		t.created = append(t.created, g)
	}
	t.used[key] = g
	return g, nil
}

// abort closes the groups this transaction created and forgets the
// targets that only they had.
func (t *groupTxn) abort() error {
	var errs []error
	for _, g := range t.created {
		errs = append(errs, g.Close())
	}
	t.pool.forgetAllBut(t.pool.live, t.created)
	return errors.Join(errs...)
}

// commit makes the used groups the live ones, closes the others after
// delay (now, with delay 0), and forgets the targets no live group has.
func (t *groupTxn) commit(delay time.Duration) {
	var old []*upstream.Group
	for key, g := range t.pool.live {
		if t.used[key] != nil {
			continue
		}
		old = append(old, g)
		if delay == 0 {
			g.Close()
		} else {
			time.AfterFunc(delay, func() { g.Close() })
		}
	}
	t.pool.live = t.used
	t.pool.forgetAllBut(t.used, old)
}

// forgetAllBut forgets the targets of groups that none of live has.
func (p *groupPool) forgetAllBut(live map[string]*upstream.Group, groups []*upstream.Group) {
	kept := map[string]bool{}
	for _, g := range live {
		for _, spec := range g.Targets() {
			kept[spec] = true
		}
	}
	for _, g := range groups {
		for _, spec := range g.Targets() {
			if !kept[spec] {
				kept[spec] = true // once
				p.healths.Forget(spec)
				if p.forget != nil {
					p.forget(spec)
				}
			}
		}
	}
}

// close closes every live group.
func (p *groupPool) close() error {
	var errs []error
	for _, g := range p.live {
		errs = append(errs, g.Close())
	}
	p.live = map[string]*upstream.Group{}
	return errors.Join(errs...)
}
