package ratelimit

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/privdns/privdns/resolver/resolvertest"
)

func newLimiter(s Settings, clock *resolvertest.Clock) *Limiter {
	s.Enabled = true
	return New(Options{Settings: s, Now: clock.Now})
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// verdicts checks n queries from client and counts each verdict.
func verdicts(l *Limiter, client string, n int) map[Verdict]int {
	got := map[Verdict]int{}
	for range n {
		got[l.Check(addr(client))]++
	}
	return got
}

func TestABurstPassesThenTheRateRefills(t *testing.T) {
	clock := resolvertest.NewClock(time.Unix(1e9, 0))
	l := newLimiter(Settings{QueriesPerSecond: 10, Burst: 5}, clock)
	if got := verdicts(l, "192.0.2.1", 5); got[Pass] != 5 {
		t.Fatalf("a full bucket of 5: %v, want 5 passes", got)
	}
	if v := l.Check(addr("192.0.2.1")); v == Pass {
		t.Fatal("the 6th query of an empty bucket passed")
	}
	clock.Advance(300 * time.Millisecond) // 3 tokens at 10/s
	if got := verdicts(l, "192.0.2.1", 4); got[Pass] != 3 {
		t.Errorf("after 300 ms at 10/s: %v, want 3 passes", got)
	}
	clock.Advance(time.Hour) // refills up to the burst, not beyond
	if got := verdicts(l, "192.0.2.1", 6); got[Pass] != 5 {
		t.Errorf("after an hour: %v, want the burst of 5 passes", got)
	}
}

func TestEverySlipthLimitedQueryIsTold(t *testing.T) {
	for _, slip := range []int{0, 1, 2, 3} {
		t.Run(fmt.Sprint("slip ", slip), func(t *testing.T) {
			clock := resolvertest.NewClock(time.Unix(1e9, 0))
			l := newLimiter(Settings{QueriesPerSecond: 1, Burst: 1, Slip: slip}, clock)
			l.Check(addr("192.0.2.1")) // the one token
			var seq []Verdict
			for range 12 {
				seq = append(seq, l.Check(addr("192.0.2.1")))
			}
			for i, v := range seq {
				want := Drop
				if slip > 0 && (i+1)%slip == 0 {
					want = Slip
				}
				if v != want {
					t.Fatalf("limited query %d: %v, want %v (all: %v)", i+1, v, want, seq)
				}
			}
		})
	}
}

func TestOneBucketPerIPv4Slash24AndIPv6Slash56(t *testing.T) {
	cases := []struct {
		name, first, second string
		shared              bool
	}{
		{"same /24", "192.0.2.1", "192.0.2.254", true},
		{"next /24", "192.0.2.1", "192.0.3.1", false},
		{"IPv4-mapped is the IPv4 /24", "192.0.2.1", "::ffff:192.0.2.9", true},
		{"same /56", "2001:db8:0:ab00::1", "2001:db8:0:abff:ffff::1", true},
		{"next /56", "2001:db8:0:ab00::1", "2001:db8:0:ac00::1", false},
		{"IPv4 and an IPv6 /56 of the same bits", "0.0.0.1", "::1", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(Settings{QueriesPerSecond: 1, Burst: 3}, resolvertest.NewClock(time.Unix(1e9, 0)))
			verdicts(l, tc.first, 3) // empties first's bucket
			shared := l.Check(addr(tc.second)) != Pass
			if shared != tc.shared {
				t.Errorf("%s after %s's bucket ran out: limited=%v, want %v", tc.second, tc.first, shared, tc.shared)
			}
		})
	}
}

func TestExemptPrefixesAreNeverLimited(t *testing.T) {
	l := newLimiter(Settings{QueriesPerSecond: 1, Burst: 1, Exempt: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::ffff:172.16.0.0/108"), netip.MustParsePrefix("2001:db8::/32"),
	}}, resolvertest.NewClock(time.Unix(1e9, 0)))
	for _, client := range []string{"10.1.2.3", "::ffff:10.9.9.9", "172.16.0.1", "2001:db8:1::1"} {
		if got := verdicts(l, client, 100); got[Pass] != 100 {
			t.Errorf("exempt %s: %v, want 100 passes", client, got)
		}
	}
	if got := verdicts(l, "11.0.0.1", 3); got[Pass] != 1 {
		t.Errorf("11.0.0.1 outside the exempt prefixes: %v, want 1 pass", got)
	}
	if l.Prefixes() != 1 {
		t.Errorf("%d prefixes tracked, want 1: exempt clients need no bucket", l.Prefixes())
	}
}

func TestManySourcesCannotGrowTheBuckets(t *testing.T) {
	l := New(Options{Settings: Settings{Enabled: true, QueriesPerSecond: 1, Burst: 1}, MaxPrefixes: 1000,
		Now: resolvertest.NewClock(time.Unix(1e9, 0)).Now})
	l.Check(addr("192.0.2.1")) // its one token
	for i := range 100_000 {
		l.Check(netip.AddrFrom4([4]byte{byte(i>>16) + 20, byte(i >> 8), byte(i), 1})) // a /24 each
		if i%500 == 0 && l.Check(addr("192.0.2.1")) == Pass {
			t.Fatalf("after %d sources a prefix in constant use was forgotten: its empty bucket passed", i)
		}
	}
	if n := l.Prefixes(); n != 1000 {
		t.Errorf("%d prefixes tracked after 100,000 sources, want the bound of 1000", n)
	}
	if l.Check(netip.AddrFrom4([4]byte{20, 0, 0, 1})) != Pass {
		t.Error("the first source's bucket was kept: the oldest prefixes are the ones forgotten")
	}
}

func TestReloadChangesTheSettings(t *testing.T) {
	clock := resolvertest.NewClock(time.Unix(1e9, 0))
	l := newLimiter(Settings{QueriesPerSecond: 1, Burst: 10}, clock)
	verdicts(l, "192.0.2.1", 10)
	l.Configure(Settings{Enabled: true, QueriesPerSecond: 100, Burst: 2, Slip: 1})
	clock.Advance(time.Second) // 100 tokens, held to the new burst of 2
	if got := verdicts(l, "192.0.2.1", 4); got[Pass] != 2 || got[Slip] != 2 {
		t.Errorf("after the reload: %v, want 2 passes and 2 slips", got)
	}
	l.Configure(Settings{Enabled: false, QueriesPerSecond: 100, Burst: 2})
	if got := verdicts(l, "192.0.2.1", 50); got[Pass] != 50 || l.Prefixes() != 0 {
		t.Errorf("turned off: %v and %d prefixes, want every query passed and none tracked", got, l.Prefixes())
	}
	l.Configure(Settings{Enabled: true, QueriesPerSecond: 1, Burst: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	if got := verdicts(l, "192.0.2.1", 5); got[Pass] != 5 {
		t.Errorf("exempted by a reload: %v, want 5 passes", got)
	}
}

func TestOffByDefault(t *testing.T) {
	l := New(Options{})
	if got := verdicts(l, "192.0.2.1", 1000); got[Pass] != 1000 {
		t.Errorf("the zero Settings limited: %v", got)
	}
}

func BenchmarkCheckKnownPrefix(b *testing.B) {
	l := New(Options{Settings: Settings{Enabled: true, QueriesPerSecond: 1e12, Burst: 1 << 30,
		Exempt: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}})
	client := addr("192.0.2.1")
	l.Check(client)
	b.ReportAllocs()
	for b.Loop() {
		if l.Check(client) != Pass {
			b.Fatal("limited")
		}
	}
}

func BenchmarkCheckParallel(b *testing.B) {
	l := New(Options{Settings: Settings{Enabled: true, QueriesPerSecond: 1e12, Burst: 1 << 30}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Check(netip.AddrFrom4([4]byte{192, 0, byte(i % 64), 1}))
			i++
		}
	})
}
