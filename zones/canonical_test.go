package zones

import "testing"

// The shortcut of canonical for plain names agrees with packing and
// unpacking, and declines every name that packing would change.
func TestPlainNamesAreCanonical(t *testing.T) {
	cases := []struct {
		name  string
		plain bool
	}{
		{"h1.z1.privatelink.scale.example.", true},
		{"_ldap._tcp.dc-1.example.", true},
		{"x.", true},
		{"Upper.example.", false},
		{"no-dot.example", false},
		{"a..b.", false},
		{".", false},
		{"sp\\032ace.example.", false},
		{"*.wild.example.", false},
		{"x\\065y.example.", false},
	}
	for _, c := range cases {
		if got := isPlain(c.name); got != c.plain {
			t.Errorf("isPlain(%q) = %v, want %v", c.name, got, c.plain)
		}
		if c.plain && canonicalSlow(c.name) != c.name {
			t.Errorf("canonicalSlow(%q) = %q, but isPlain calls it canonical", c.name, canonicalSlow(c.name))
		}
		if canonical(c.name) != canonicalSlow(c.name) {
			t.Errorf("canonical(%q) = %q, canonicalSlow = %q", c.name, canonical(c.name), canonicalSlow(c.name))
		}
	}
}
