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
	crossRulesetDomains(r, sets)
}

// crossRulesetDomains rejects two enabled rules for one domain reaching
// one network through different rulesets: which one answers would depend
// on the order of the file.
func crossRulesetDomains(r *report, sets []Ruleset) {
	type owner struct{ key, ruleset string }
	seen := map[[2]string]owner{} // (network, domain) → first rule
	for i, rs := range sets {
		for j, rule := range rs.Rules {
			if rule.State == "Disabled" || rule.Domain == "" {
				continue
			}
			key := fmt.Sprintf("forwardingRulesets[%d].rules[%d].domain", i, j)
			for _, n := range rs.Networks {
				k := [2]string{n, rule.Domain}
				if first, dup := seen[k]; dup && first.ruleset != rs.Name {
					r.errorf(key, "network %s already forwards %s through ruleset %s (%s)", n, rule.Domain, first.ruleset, first.key)
					break
				}
				seen[k] = owner{key, rs.Name}
			}
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
