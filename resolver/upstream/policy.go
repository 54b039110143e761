package upstream

import (
	"fmt"
	"strings"
)

// Policy chooses which target a query tries first; every policy then fails
// over through the remaining targets in list order, wrapping around.
type Policy int

const (
	// Sequential always starts at the first target, like the target list of
	// an Azure forwarding rule: later targets are only backups.
	Sequential Policy = iota
	// Random starts at a random target, spreading load without shared state.
	Random
	// RoundRobin rotates the starting target on every query.
	RoundRobin
)

// ParsePolicy maps the configuration spelling ("sequential", "random",
// "roundRobin", case-insensitive) to a Policy; "" means Sequential.
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(s) {
	case "", "sequential":
		return Sequential, nil
	case "random":
		return Random, nil
	case "roundrobin":
		return RoundRobin, nil
	}
	return Sequential, fmt.Errorf("%w %q (want sequential, random or roundRobin)", ErrBadPolicy, s)
}

// String returns the configuration spelling, for logs.
func (p Policy) String() string {
	switch p {
	case Sequential:
		return "sequential"
	case Random:
		return "random"
	case RoundRobin:
		return "roundRobin"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}
