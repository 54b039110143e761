package xfr

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the transfer metrics of SPEC §8, shared by every zone of
// both directions.
type Metrics struct {
	transfers *prometheus.CounterVec // zone, direction, result
	serial    *prometheus.GaugeVec   // zone
	expired   *prometheus.GaugeVec   // zone
}

// Label values of privdns_zone_transfers_total.
const (
	In  = "in"
	Out = "out"

	Success = "success"
	Failure = "failure"
	Refused = "refused"
)

// NewMetrics registers the metrics on reg, or finds them there when an
// earlier NewMetrics (another secondary zone, a reload) registered them,
// so every caller may pass the process's registerer. A nil reg gives
// metrics nobody scrapes.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "privdns", Name: "zone_transfers_total",
			Help: "Zone transfers by zone, direction (in, out) and result (success, failure, refused).",
		}, []string{"zone", "direction", "result"}),
		serial: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "privdns", Name: "zone_serial",
			Help: "SOA serial each zone is served with.",
		}, []string{"zone"}),
		expired: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "privdns", Name: "zone_expired",
			Help: "1 while a secondary zone is expired (its primaries unreachable for the SOA expire), else 0.",
		}, []string{"zone"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.transfers, err = register(reg, m.transfers); err != nil {
		return nil, err
	}
	if m.serial, err = register(reg, m.serial); err != nil {
		return nil, err
	}
	if m.expired, err = register(reg, m.expired); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector of the same kind already
// registered under its name.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// Transfer counts one transfer of zone.
func (m *Metrics) Transfer(zone, direction, result string) {
	if m != nil {
		m.transfers.WithLabelValues(zone, direction, result).Inc()
	}
}

// Serial sets the serial zone is served with.
func (m *Metrics) Serial(zone string, serial uint32) {
	if m != nil {
		m.serial.WithLabelValues(zone).Set(float64(serial))
	}
}

// Expired sets whether zone is expired.
func (m *Metrics) Expired(zone string, expired bool) {
	if m != nil {
		v := 0.0
		if expired {
			v = 1
		}
		m.expired.WithLabelValues(zone).Set(v)
	}
}

// Forget drops the gauges of a zone no longer held (a reload removed it);
// its counters stay, as counters do.
func (m *Metrics) Forget(zone string) {
	if m != nil {
		m.serial.DeleteLabelValues(zone)
		m.expired.DeleteLabelValues(zone)
	}
}
