package secondary

import (
	"errors"
	"io/fs"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones/datadir"
)

// loadCopy puts the dataDir copy in place: served if younger than its SOA
// expire, else kept only as the base of an IXFR (and served again if the
// first check finds the primary at the same serial).
func (s *Secondary) loadCopy() {
	if s.opts.Store == nil {
		return
	}
	c, err := s.opts.Store.LoadZone(s.opts.StoreKey)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return
	case err != nil:
		s.log.Warn("cannot read the zone's copy in dataDir; waiting for a transfer", "err", err)
		return
	case dns.CanonicalName(c.Zone) != s.zone:
		s.log.Warn("the copy in dataDir is of another zone; ignored", "copy", c.Zone)
		return
	}
	z, cuts, err := s.validate(c.Records)
	if err != nil {
		s.log.Warn("the copy in dataDir does not load; waiting for a transfer", "err", err)
		return
	}
	s.raw, s.soa, s.zdata = c.Records, z.SOA(), z
	s.warnCuts(cuts)
	expired := !s.opts.Now().Before(c.Checked.Add(expireOf(s.soa)))
	s.setStatus(func(st *Status) {
		st.HasData, st.Serial, st.Source, st.LastSuccess, st.Expired = true, s.soa.Serial, "dataDir copy", c.Checked, expired
	})
	s.metrics.Serial(s.zone, s.soa.Serial)
	s.metrics.Expired(s.zone, expired)
	if expired {
		s.log.Warn("the copy in dataDir is older than the SOA expire: not served until a primary answers", "serial", s.soa.Serial, "checked", c.Checked)
		return
	}
	s.cur.Store(z)
	s.log.Info("serving the copy in dataDir until the first check", "serial", s.soa.Serial, "checked", c.Checked)
}

// save writes the data just installed to the store.
func (s *Secondary) save(now time.Time) {
	if s.opts.Store == nil {
		return
	}
	c := datadir.ZoneCopy{Zone: s.zone, Serial: s.soa.Serial, Records: s.raw, Checked: now}
	if err := s.opts.Store.SaveZone(s.opts.StoreKey, c); err != nil {
		s.log.Error("cannot keep the zone in dataDir", "err", err)
	}
}

// saveChecked records a check that found the data current.
func (s *Secondary) saveChecked(now time.Time) {
	if s.opts.Store == nil || s.soa == nil {
		return
	}
	if err := s.opts.Store.SaveChecked(s.opts.StoreKey, now); err != nil {
		s.log.Error("cannot keep the check time in dataDir", "err", err)
	}
}
