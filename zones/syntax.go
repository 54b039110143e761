package zones

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// parseErrText splits the text of a dns.ParseError, "dns: WHAT: "TOKEN" at
// line: L:C", into its parts (the file name before it is cut off first). At
// the end of its input the parser gives no position.
var parseErrText = regexp.MustCompile(`^dns: (.*): ("(?:[^"\\]|\\.)*")(?: at line: (\d+):\d+)?$`)

// splitParseError takes the line out of a dns.ParseError and says what is
// wrong in privdns's words; Error carries the file and line on its own.
func splitParseError(err error) (int, string) {
	msg := err.Error()
	if i := strings.Index(msg, "dns: "); i >= 0 {
		msg = msg[i:]
	}
	m := parseErrText.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "dns: ")
	}
	line, _ := strconv.Atoi(m[3]) // 0 without a position
	token, uerr := strconv.Unquote(m[2])
	if uerr != nil {
		token = m[2]
	}
	return line, rephrase(m[1], token)
}

// syntaxMessages rephrase the zone parser's complaints about the layout of
// a line; %q is the token it stopped at.
var syntaxMessages = map[string]string{
	"bad owner name":                               "%q is not a valid owner name (an empty label, or one longer than 63 octets)",
	"not a TTL":                                    "%q is neither a TTL nor a class or record type",
	"unknown RR type":                              "%q is not a record type",
	"syntax error at beginning":                    "a record cannot start with %q",
	"garbage after rdata":                          "unexpected %q after the record's data (comments start with ';')",
	"unexpected newline":                           "the line ends before the record is complete",
	"missing TTL with no previous value":           "the record has no TTL and no $TTL comes before it",
	"expecting RR type, TTL or class, not this...": "%q is neither a TTL nor a class or record type",
	"expecting RR type or class, not this...":      "%q is not a class or record type",
	"expecting RR type or TTL, not this...":        "%q is not a TTL or record type",
	"bad origin name":                              "%q is not a domain name for $ORIGIN",
	"expecting $ORIGIN value, not this...":         "$ORIGIN needs a domain name, not %q",
	"expecting $TTL value, not this...":            "$TTL needs a TTL such as 3600, not %q",
	"expecting $INCLUDE value, not this...":        "$INCLUDE needs a file name, not %q",
	"garbage after $INCLUDE":                       "unexpected %q after the $INCLUDE file and origin",
	"$INCLUDE directive not allowed":               "$INCLUDE is not allowed in inline records",
	"too deeply nested $INCLUDE":                   "$INCLUDE nested too deeply (a file including itself?)",
	"nested $GENERATE directive not allowed":       "$GENERATE may not produce another $GENERATE",
	"expecting $GENERATE value, not this...":       "$GENERATE needs a range such as 1-10, not %q",
	"garbage after $GENERATE range":                `$GENERATE is incomplete: it needs a range, an owner and a record, such as "$GENERATE 1-10 host$ A 10.0.0.$"`,
	"no blank after owner":                         "expected a space after the owner name, found %q",
	"no blank before class":                        "expected a space before the class, found %q",
	"no blank before TTL":                          "expected a space before the TTL, found %q",
	"no blank before RR type":                      "expected a space before the record type, found %q",
	"no blank after $TTL-directive":                "expected a space after $TTL",
	"no blank after $ORIGIN-directive":             "expected a space after $ORIGIN",
	"no blank after $INCLUDE-directive":            "expected a space after $INCLUDE",
	"no blank after $GENERATE-directive":           "expected a space after $GENERATE",
	"bad initial origin name":                      "the zone name is not a valid origin",
	"bad RFC3597 Rdata":                            `%q is not record data in the "\# LENGTH HEX" form of RFC 3597`,
}

// field names one part of a record's data and what it must be.
type field struct{ part, want string }

const (
	aName   = "a domain name"
	aNumber = "a number from 0 to 65535"
)

// recordFields are the parts of common record types the parser complains
// about as "bad TYPE Field".
var recordFields = map[string]field{
	"bad A A":                {"address", "an IPv4 address"},
	"bad AAAA AAAA":          {"address", "an IPv6 address"},
	"bad CNAME Target":       {"target", aName},
	"bad DNAME Target":       {"target", aName},
	"bad NS Ns":              {"name server", aName},
	"bad PTR Ptr":            {"target", aName},
	"bad MX Mx":              {"mail exchange", aName},
	"bad MX Pref":            {"preference", aNumber},
	"bad SOA Ns":             {"primary name server", aName},
	"bad SOA Mbox":           {"mailbox", aName},
	"bad SOA zone parameter": {"serial or timer", "a number (timers may be TTLs such as 1h)"},
	"bad SRV Priority":       {"priority", aNumber},
	"bad SRV Weight":         {"weight", aNumber},
	"bad SRV Port":           {"port", aNumber},
	"bad SRV Target":         {"target", aName},
	"bad TXT Txt":            {"text", "a quoted string"},
	"bad HINFO Fields":       {"CPU and OS", "two strings"},
	"bad CAA Flag":           {"flag", "a number from 0 to 255"},
	"bad CAA Tag":            {"tag", "a tag such as issue"},
	"bad CAA Value":          {"value", "a quoted string"},
	"bad NAPTR Order":        {"order", aNumber},
	"bad NAPTR Preference":   {"preference", aNumber},
	"bad NAPTR Replacement":  {"replacement", aName},
}

// badField matches the parser's other "bad TYPE Field" complaints.
var badField = regexp.MustCompile(`^bad ([A-Z0-9]+) (\w[\w /]*)$`)

// rephrase says what the zone parser found wrong in privdns's own words:
// which record, which part of it, and what it should have been.
func rephrase(what, token string) string {
	what = strings.TrimSpace(what)
	missing := strings.TrimSpace(token) == "" // the line ended where data was due
	if f, ok := recordFields[what]; ok {
		typ := strings.Fields(what)[1]
		if missing {
			return fmt.Sprintf("%s record: the %s is missing", typ, f.part)
		}
		return fmt.Sprintf("%s record: the %s %q is not %s", typ, f.part, token, f.want)
	}
	if m := badField.FindStringSubmatch(what); m != nil {
		if missing {
			return fmt.Sprintf("%s record: the %s is missing", m[1], strings.ToLower(m[2]))
		}
		return fmt.Sprintf("%s record: %q is not a valid %s", m[1], token, strings.ToLower(m[2]))
	}
	if _, isType := dns.StringToType[strings.ToUpper(token)]; isType && what == "not a TTL" {
		// A record that ends right after its type (an inline record has
		// no newline to end it with): the lexer takes the type for a TTL.
		return fmt.Sprintf("%s record: its data is missing", strings.ToUpper(token))
	}
	if format, ok := syntaxMessages[what]; ok {
		if !strings.Contains(format, "%q") {
			return format
		}
		if missing {
			return "the line ends before the record is complete"
		}
		return fmt.Sprintf(format, token)
	}
	if missing {
		return "syntax error: " + what
	}
	return fmt.Sprintf("syntax error at %q: %s", token, what)
}
