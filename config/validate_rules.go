package config

import (
	"fmt"
	"strings"
)

func validateRulesets(r *report, sets []Ruleset, nets networkIndex) {
	names := map[string]string{} // lower-cased ruleset name → its key
	for i := range sets {
		rs := &sets[i]
		key := fmt.Sprintf("forwardingRulesets[%d]", i)
		if err := checkResourceName(rs.Name); err != nil {
			r.errorf(key+".name", "%v", err)
		} else if first, dup := names[strings.ToLower(rs.Name)]; dup {
			r.errorf(key+".name", "ruleset %q is declared twice (%s)", rs.Name, first)
		} else {
			names[strings.ToLower(rs.Name)] = key
		}
		linked := map[string]bool{}
		for j, n := range rs.Networks {
			k := fmt.Sprintf("%s.networks[%d]", key, j)
			declared, ok := nets.ref(r, k, n)
			if ok && linked[declared] {
				r.errorf(k, "network %q is listed twice", declared)
			}
			linked[declared] = true
			rs.Networks[j] = declared
		}
		domains := map[string]string{} // domain → key of its rule
		for j := range rs.Rules {
			validateRule(r, fmt.Sprintf("%s.rules[%d]", key, j), &rs.Rules[j], domains)
		}
	}
}

func validateRule(r *report, key string, rule *Rule, domains map[string]string) {
	domain, err := domainName(rule.Domain, true)
	switch {
	case err != nil:
		r.errorf(key+".domain", "%v", err)
	case domains[domain] != "":
		r.errorf(key+".domain", "the ruleset already has a rule for %s (%s)", domain, domains[domain])
	default:
		domains[domain] = key
	}
	rule.Domain = domain
	if len(rule.Targets) == 0 {
		r.errorf(key+".targets", "at least one target required")
	}
	for k, t := range rule.Targets {
		addr, err := serverAddress(t)
		if err != nil {
			r.errorf(fmt.Sprintf("%s.targets[%d]", key, k), "%v", err)
			continue
		}
		rule.Targets[k] = addr
	}
	if rule.State == "" {
		rule.State = "Enabled"
	}
	rule.State = oneOf(r, key+".state", rule.State, "Enabled", "Disabled")
}
