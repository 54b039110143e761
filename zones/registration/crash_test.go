package registration

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones/datadir"
	"github.com/privdns/privdns/zones/datadir/crashtest"
)

// The crash test kills a child process (this test binary, re-executed)
// with SIGKILL while it streams updates, then checks on the same dataDir
// that every update the child acknowledged is there and no refused one.

const (
	childEnv = "PRIVDNS_REGISTRATION_CHILD"
	maxSteps = 3000 // a child left alone stops by itself
)

// TestRegistrationChild is the child's body; run directly, it does nothing.
func TestRegistrationChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("only run as the child of a crash test")
	}
	reg, err := openCrashRegistry(t, dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	next := reg.Registrations() // vm0 … vm(next-1) are there
	fmt.Printf("ready %d\n", next)
	for i := next; i < next+maxSteps; i++ {
		// Two updates that must be refused, then the registration.
		intruder := Client(netip.AddrFrom4([4]byte{10, 8, byte(i >> 8), byte(i)}))
		refused := []*dns.Msg{msg(t, "up www 0 IN A "+addrOf(intruder))}
		if i > 0 {
			refused = append(refused, msg(t, fmt.Sprintf("up vm%d 0 IN A %s", i-1, addrOf(intruder))))
		}
		for _, m := range refused {
			if res := reg.Update(m, intruder); res.Rcode != dns.RcodeRefused {
				fmt.Println("error refused update answered", dns.RcodeToString[res.Rcode], res.Reason)
				os.Exit(2)
			}
			fmt.Printf("refused %d\n", i)
		}
		who := crashClient(i)
		if res := reg.Update(msg(t, fmt.Sprintf("up vm%d 0 IN A %s", i, addrOf(who))), who); res.Rcode != dns.RcodeSuccess {
			fmt.Println("error", dns.RcodeToString[res.Rcode], res.Reason)
			os.Exit(2)
		}
		fmt.Printf("ack %d\n", i)
	}
	os.Exit(0)
}

func crashClient(i int) Principal {
	return Client(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}))
}

func addrOf(p Principal) string { a, _ := p.Addr(); return a.String() }

// openCrashRegistry opens the registry on dir, compacting often so that
// kills land around snapshots too.
func openCrashRegistry(t testing.TB, dir string) (*Registry, error) {
	s, err := datadir.Open(dir, nil)
	if err != nil {
		return nil, err
	}
	j, err := s.OpenJournal(apex)
	if err != nil {
		return nil, err
	}
	return New(Options{Manual: manual(t), Journal: j, CompactEvery: 7})
}

// runCrashChild starts a child and kills it after acks acknowledged
// registrations (0: as soon as it is ready); it returns the last one
// acknowledged, -1 for none.
func runCrashChild(t *testing.T, dir string, acks int) int {
	t.Helper()
	return crashtest.Run(t, "TestRegistrationChild", []string{childEnv + "=" + dir}, acks, nil)
}

func TestEveryAcknowledgedUpdateSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 3))
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	acked := -1
	const rounds = 12
	for round := range rounds {
		acked = max(acked, runCrashChild(t, dir, rng.IntN(30)))
		reg, err := openCrashRegistry(t, dir)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		have := reg.Registrations()
		if have < acked+1 {
			t.Fatalf("round %d: %d names registered, but the child acknowledged vm0 … vm%d", round, have, acked)
		}
		z := reg.Current()
		if z.SOA().Serial != uint32(5+have) { // the file's 5, one more per registration
			t.Fatalf("round %d: serial %d with %d registrations, want %d", round, z.SOA().Serial, have, 5+have)
		}
		for i := range have {
			want := addrOf(crashClient(i))
			res := z.Lookup(fmt.Sprintf("vm%d.%s", i, apex), dns.TypeA)
			if len(res.Records) != 1 || res.Records[0].(*dns.A).A.String() != want {
				t.Fatalf("round %d: vm%d = %v, want only %s (a refused update got in, or an acknowledged one is lost)", round, i, res.Records, want)
			}
		}
		if res := z.Lookup("www."+apex, dns.TypeA); len(res.Records) != 1 {
			t.Fatalf("round %d: www = %v: a refused update got in", round, res.Records)
		}
		reg.Close()
		acked = have - 1 // written but not acknowledged is held now too
	}
	if acked < rounds {
		t.Errorf("only %d registrations in %d rounds: the children barely wrote", acked+1, rounds)
	}
	t.Logf("%d rounds, %d registrations", rounds, acked+1)
}
