package azure

import (
	"errors"
	"fmt"
	"strings"
)

// maxResourceName is Azure's (and privdns's, SPEC §3) limit on the names of
// networks, links and rulesets.
const maxResourceName = 80

// checkResourceName applies SPEC §3's rule for the names of networks, links
// and rulesets: 1–80 letters, digits, '-', '_' and '.'.
func checkResourceName(name string) error {
	if len(name) > maxResourceName {
		return fmt.Errorf("%q is longer than %d characters", name, maxResourceName)
	}
	for _, c := range name {
		if !resourceChar(c) {
			return fmt.Errorf("%q may hold only letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

func resourceChar(c rune) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.'
}

// qualified names a resource after its resource group as well, for two
// resources of one name (SPEC §7): "RESOURCEGROUP-NAME", lower-cased, with
// characters outside the §3 rule replaced by '-'.
func qualified(rg, name string) string {
	s := strings.ToLower(rg + "-" + name)
	return strings.Map(func(c rune) rune {
		if resourceChar(c) {
			return c
		}
		return '-'
	}, s)
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// zoneName checks a private zone's name and returns it lower-cased without
// the final dot.
func zoneName(name string) (string, error) {
	fqdn, err := domainName(name, false, false)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(fqdn, "."), nil
}

// ownerName checks a record set's name, relative to zone ("@" is the apex;
// "*" may be the first label).
func ownerName(rel, zone string) error {
	if rel == "@" {
		return nil
	}
	if rel == "" {
		return errors.New("empty name (the apex is @)")
	}
	if strings.HasSuffix(rel, ".") {
		return fmt.Errorf("%q is not a relative name: record set names are relative to the zone and end without a dot", rel)
	}
	labels := strings.Split(rel, ".")
	for i, l := range labels {
		if i == 0 && l == "*" {
			continue
		}
		if err := checkLabel(l, false); err != nil {
			return fmt.Errorf("%q is not a valid DNS name: %w", rel, err)
		}
	}
	if len(rel)+1+len(zone) > 253 {
		return fmt.Errorf("%q: with the zone %s the name is longer than 253 characters", rel, zone)
	}
	return nil
}

// targetName checks a name in record data (a CNAME's target, an MX
// exchange, …) and returns it lower-cased and absolute: SPEC §7 reads these
// as absolute whether or not Azure prints the final dot. root allows "."
// itself (a null MX, an SRV "no such service").
func targetName(name string, root bool) (string, error) {
	return domainName(name, root, true)
}

// domainName checks a DNS name and returns it lower-cased with the final
// dot. slash allows '/' in labels, as RFC 2317 reverse names use it.
func domainName(name string, root, slash bool) (string, error) {
	switch {
	case name == "":
		return "", errors.New("empty name")
	case name == ".":
		if root {
			return ".", nil
		}
		return "", errors.New(`"." (the root) is not allowed here`)
	}
	fqdn := strings.ToLower(name)
	if !strings.HasSuffix(fqdn, ".") {
		fqdn += "."
	}
	if len(fqdn) > 254 {
		return "", fmt.Errorf("%q is longer than 253 characters", name)
	}
	for l := range strings.SplitSeq(strings.TrimSuffix(fqdn, "."), ".") {
		if err := checkLabel(l, slash); err != nil {
			return "", fmt.Errorf("%q is not a valid DNS name: %w", name, err)
		}
	}
	return fqdn, nil
}

// checkLabel allows what Azure allows in record names and privdns in its
// configuration: letters, digits, '-' and '_' (service labels).
func checkLabel(l string, slash bool) error {
	switch {
	case l == "":
		return errors.New("empty label")
	case len(l) > 63:
		return fmt.Errorf("label %q is longer than 63 characters", l)
	}
	for _, c := range l {
		if !isAlnum(c) && c != '-' && c != '_' && (c != '/' || !slash) {
			return fmt.Errorf("label %q may hold only letters, digits, '-' and '_'", l)
		}
	}
	return nil
}
