package config

// OverrideListeners replaces the configured listeners with addrs, none
// bound to a network: the --listen flag of serve and demo. The addresses
// are checked as server.listeners are, each problem named after the flag.
// Call it before the configuration is used: a Config is immutable after.
func (c *Config) OverrideListeners(addrs []string) error {
	r := newReport("", nil)
	ls := make([]Listener, len(addrs))
	for i, a := range addrs {
		ls[i].Address = a
	}
	validateListeners(r, ls, nil, func(i int) string { return "--listen " + addrs[i] })
	if len(r.problems) > 0 {
		return r.problems
	}
	c.Server.Listeners = ls
	return nil
}

// OverrideUpstreams replaces upstreams.servers with addrs, checked as the
// configured servers are: the --upstream flag of explain.
func (c *Config) OverrideUpstreams(addrs []string) error {
	r := newReport("", nil)
	servers := make([]string, len(addrs))
	seen := map[string]bool{}
	for i, a := range addrs {
		key := "--upstream " + a
		addr, err := serverAddress(a)
		switch {
		case err != nil:
			r.errorf(key, "%v", err)
		case seen[addr]:
			r.errorf(key, "%s is given twice", addr)
		}
		seen[addr] = true
		servers[i] = addr
	}
	if len(addrs) == 0 {
		r.problems = append(r.problems, Problem{Key: "--upstream", Msg: "at least one upstream required"})
	}
	if len(r.problems) > 0 {
		return r.problems
	}
	c.Upstreams.Servers = servers
	return nil
}
