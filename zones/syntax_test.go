package zones

import (
	"errors"
	"strings"
	"testing"
)

// The zone parser's own words ("dns: bad A A", "not this...") are not what a
// user should have to decode: every syntax error is said again.
func TestSyntaxErrorsAreSaidInPrivdnsWords(t *testing.T) {
	cases := []struct{ record, want string }{
		{"www IN A 10.0.0", `A record: the address "10.0.0" is not an IPv4 address`},
		{"www IN AAAA 10.0.0.1", `AAAA record: the address "10.0.0.1" is not an IPv6 address`},
		{"www IN A \n", "A record: the address is missing"},
		{"www IN A", "A record: its data is missing"},
		{"www IN CNAME bad..name", `CNAME record: the target "bad..name" is not a domain name`},
		{"@ IN MX ten mail", `MX record: the preference "ten" is not a number from 0 to 65535`},
		{"@ IN MX 10", "MX record: the mail exchange is missing"},
		{"_sip._tcp IN SRV 1 2 http sip", `SRV record: the port "http" is not a number from 0 to 65535`},
		{"www IN BOGUS 1", `"BOGUS" is neither a TTL nor a class or record type`},
		{"www 1x IN A 10.0.0.1", `"1x" is neither a TTL nor a class or record type`},
		{"www IN A 10.0.0.1 extra", `unexpected "extra" after the record's data`},
		{"@ IN SOA ns hostmaster one 2 3 4 5", `SOA record: the serial or timer "one" is not a number`},
		{"$ORIGIN bad..origin.", `"bad..origin." is not a domain name for $ORIGIN`},
		{"$TTL soon", `$TTL needs a TTL such as 3600, not "soon"`},
		{"@ IN SSHFP x 1 abcd", `SSHFP record: "x" is not a valid algorithm`},
	}
	for _, c := range cases {
		t.Run(c.record, func(t *testing.T) {
			_, err := Load("example.com", "", []string{c.record})
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("Load = %v, want one problem", err)
			}
			msg := errs[0].Msg
			if !strings.HasPrefix(msg, c.want) {
				t.Errorf("message %q, want it to start %q", msg, c.want)
			}
			for _, theirs := range []string{"dns:", "not this...", " at line: "} {
				if strings.Contains(msg, theirs) {
					t.Errorf("message %q still holds the parser's %q", msg, theirs)
				}
			}
		})
	}
}

func TestUnknownParserComplaintsKeepTheirTokenAndLoseTheirPrefix(t *testing.T) {
	line, msg := splitParseError(errors.New(`z.zone: dns: something new: "tok" at line: 7:3`))
	if line != 7 || msg != `syntax error at "tok": something new` {
		t.Errorf("= %d, %q", line, msg)
	}
	if line, msg := splitParseError(errors.New("dns: no position")); line != 0 || msg != "no position" {
		t.Errorf("without a position: %d, %q", line, msg)
	}
}
