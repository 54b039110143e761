package registration

import (
	"testing"

	"github.com/miekg/dns"
)

func TestMalformedUpdates(t *testing.T) {
	good := func() *dns.Msg { return msg(t, "up vm 0 IN A 10.1.0.4") }
	cases := []struct {
		name string
		msg  func() *dns.Msg
		want int
	}{
		{"no message", func() *dns.Msg { return nil }, dns.RcodeFormatError},
		{"a query, not an update", func() *dns.Msg { m := good(); m.Opcode = dns.OpcodeQuery; return m }, dns.RcodeFormatError},
		{"no zone", func() *dns.Msg { m := good(); m.Question = nil; return m }, dns.RcodeFormatError},
		{"two zones", func() *dns.Msg { m := good(); m.Question = append(m.Question, m.Question[0]); return m }, dns.RcodeFormatError},
		{"zone type A", func() *dns.Msg { m := good(); m.Question[0].Qtype = dns.TypeA; return m }, dns.RcodeFormatError},
		{"zone class CH", func() *dns.Msg { m := good(); m.Question[0].Qclass = dns.ClassCHAOS; return m }, dns.RcodeNotAuth},
		{"another zone", func() *dns.Msg { m := good(); m.Question[0].Name = "example.org."; return m }, dns.RcodeNotAuth},
		{"a zone below", func() *dns.Msg { m := good(); m.Question[0].Name = "sub.corp.example."; return m }, dns.RcodeNotAuth},
		{"zone in another case", func() *dns.Msg { m := good(); m.Question[0].Name = "CORP.Example."; return m }, dns.RcodeSuccess},
		{"update outside the zone", func() *dns.Msg { return msg(t, "up vm.example.org. 0 IN A 10.1.0.4") }, dns.RcodeNotZone},
		{"update at the parent", func() *dns.Msg { return msg(t, "up example. 0 IN A 10.1.0.4") }, dns.RcodeNotZone},
		{"second record outside the zone", func() *dns.Msg { return msg(t, "up vm 0 IN A 10.1.0.4", "up x.org. 0 IN A 10.1.0.4") }, dns.RcodeNotZone},
		{"class CH", func() *dns.Msg { return msg(t, "up vm 0 CH A 10.1.0.4") }, dns.RcodeFormatError},
		{"add of type ANY", func() *dns.Msg { return msg(t, "up vm 0 IN ANY") }, dns.RcodeFormatError},
		{"add of AXFR", func() *dns.Msg { return msg(t, "up vm 0 IN AXFR") }, dns.RcodeFormatError},
		{"add of MAILB", func() *dns.Msg { return msg(t, "up vm 0 IN MAILB") }, dns.RcodeFormatError},
		{"add without data", func() *dns.Msg { return msg(t, "up vm 0 IN A") }, dns.RcodeFormatError},
		{"RRset delete with a TTL", func() *dns.Msg { return msg(t, "up vm 60 ANY A") }, dns.RcodeFormatError},
		{"RRset delete with data", func() *dns.Msg { return msg(t, "up vm 0 ANY A 10.1.0.4") }, dns.RcodeFormatError},
		{"RRset delete of AXFR", func() *dns.Msg { return msg(t, "up vm 0 ANY AXFR") }, dns.RcodeFormatError},
		{"record delete with a TTL", func() *dns.Msg { return msg(t, "up vm 60 NONE A 10.1.0.4") }, dns.RcodeFormatError},
		{"record delete of type ANY", func() *dns.Msg { return msg(t, "up vm 0 NONE ANY") }, dns.RcodeFormatError},
		{"record delete without data", func() *dns.Msg { return msg(t, "up vm 0 NONE A") }, dns.RcodeFormatError},
		{"prescan before the rules: a malformed record after a refused one", func() *dns.Msg { return msg(t, "up www 0 IN A 10.1.0.4", "up vm 0 IN ANY") }, dns.RcodeFormatError},
		{"a nil record", func() *dns.Msg { m := good(); m.Ns = append(m.Ns, nil); return m }, dns.RcodeFormatError},
		{"a nil prerequisite", func() *dns.Msg { m := good(); m.Answer = []dns.RR{nil}; return m }, dns.RcodeFormatError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			serial := w.serial()
			if res := w.reg.Update(c.msg(), vm1); res.Rcode != c.want {
				t.Fatalf("Update = %s (%s), want %s", dns.RcodeToString[res.Rcode], res.Reason, dns.RcodeToString[c.want])
			}
			if c.want != dns.RcodeSuccess && w.serial() != serial {
				t.Error("a malformed update changed the zone")
			}
		})
	}
}
