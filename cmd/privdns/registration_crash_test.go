package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The crash test runs privdns as its own process, streams UPDATEs at it
// from several clients, SIGKILLs it at a random moment, starts it again on
// the same dataDir and asks, by DNS, for every name it was sent: each
// update acknowledged NOERROR must be there (a delete: the name gone), no
// refused one may be, and an update whose reply the kill swallowed may
// have gone either way. zones/datadir/crashtest kills children by what
// they print; here the client is the test itself, so it kills by time.

const (
	crashRounds  = 10
	crashClients = 4 // 127.0.0.20 … 127.0.0.23, in the registration network
)

// crashName is one name a client registered, and what a query may find.
type crashName struct {
	name, addr      string
	present, absent bool // may be answered addr / may be NXDOMAIN
	keep            bool // never deleted: once present for sure, others try to steal it
	lost            bool // the reply to its last update was lost to a kill
	lostDelete      bool // and that update was a delete
}

// crashTally counts the outcomes of one stream.
type crashTally struct {
	adds, deletes, refused, lost atomic.Int64
	// Of the registrations and deletes whose reply was lost: how many
	// had taken effect after the restart, and how many had not.
	lostDone, lostUndone int
}

// inflight aborts the exchanges of the clients when the server is killed:
// a UDP request the server read but did not answer would wait for its
// whole timeout.
type inflight struct {
	mu    sync.Mutex
	conns map[*dns.Conn]bool
}

func (f *inflight) add(c *dns.Conn) { f.mu.Lock(); f.conns[c] = true; f.mu.Unlock() }
func (f *inflight) del(c *dns.Conn) { f.mu.Lock(); delete(f.conns, c); f.mu.Unlock() }
func (f *inflight) abort() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.SetDeadline(time.Now())
	}
}

// exchange sends one UPDATE over proto from src; err is set when no reply
// came (the server was killed, or is gone).
func (f *inflight) exchange(proto, src, addr string, ops ...regOp) (*dns.Msg, error) {
	m := updateMsg(ops...)
	c := &dns.Client{Net: proto, Timeout: 5 * time.Second}
	ip := net.ParseIP(src)
	if proto == "tcp" {
		c.Dialer = &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	} else {
		c.Dialer = &net.Dialer{LocalAddr: &net.UDPAddr{IP: ip}}
	}
	co, err := c.Dial(addr)
	if err != nil {
		return nil, err
	}
	f.add(co)
	defer func() { f.del(co); co.Close() }()
	resp, _, err := c.ExchangeWithConn(m, co)
	return resp, err
}

func TestEveryAcknowledgedUpdateSurvivesSIGKILLOfTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs privdns as a process and kills it")
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 13))
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	addr := freePort(t)
	var names []*crashName
	var refusedNames []string // names only refused updates were sent for
	var tally crashTally
	inFlightAtKill := 0
	for round := range crashRounds {
		cmd, out := startRegProcess(t, dir, addr)
		if !verifyCrashNames(t, round, addr, names, refusedNames, &tally) {
			t.Fatalf("round %d (seed %d); privdns said:\n%s", round, seed, out)
		}
		var steal []*crashName // others' names that are there for sure
		for _, n := range names {
			if n.keep && n.present && !n.absent {
				steal = append(steal, n)
			}
		}
		fl := &inflight{conns: map[*dns.Conn]bool{}}
		var wg sync.WaitGroup
		var mu sync.Mutex // guards names and refusedNames while the clients run
		busy := atomic.Int64{}
		for k := range crashClients {
			wg.Add(1)
			crng := rand.New(rand.NewPCG(seed, uint64(round*crashClients+k)))
			go func() {
				defer wg.Done()
				c := crashClient{t: t, k: k, round: round, addr: addr, fl: fl, rng: crng, steal: steal, tally: &tally, busy: &busy}
				mine, refused := c.stream()
				mu.Lock()
				names = append(names, mine...)
				refusedNames = append(refusedNames, refused...)
				mu.Unlock()
			}()
		}
		delay := time.Duration(rng.IntN(200)) * time.Millisecond
		if round == 0 {
			delay = 0 // as soon as it answers: the first updates are in flight
		}
		time.Sleep(delay) // when to kill: not an assertion
		if busy.Load() > 0 {
			inFlightAtKill++
		}
		sigkill(cmd)
		deadline := time.Now().Add(10 * time.Second)
		for done := waitChan(&wg); ; {
			fl.abort()
			select {
			case <-done:
			case <-time.After(10 * time.Millisecond):
				if time.Now().Before(deadline) {
					continue
				}
				t.Fatal("the clients did not stop after the kill")
			}
			break
		}
		t.Logf("round %d: killed after %s; so far %d adds and %d deletes acknowledged, %d refused, %d replies lost to kills",
			round, delay, tally.adds.Load(), tally.deletes.Load(), tally.refused.Load(), tally.lost.Load())
	}
	cmd, out := startRegProcess(t, dir, addr)
	if !verifyCrashNames(t, crashRounds, addr, names, refusedNames, &tally) {
		t.Fatalf("after the last kill (seed %d); privdns said:\n%s", seed, out)
	}
	there := 0
	for _, n := range names {
		if n.present {
			there++
		}
	}
	t.Logf("%d kills (%d with updates in flight): %d adds and %d deletes acknowledged, %d refused, %d replies lost (of registrations and deletes: %d had taken effect, %d not); %d names registered at the end, %d names refused",
		crashRounds, inFlightAtKill, tally.adds.Load(), tally.deletes.Load(), tally.refused.Load(), tally.lost.Load(), tally.lostDone, tally.lostUndone, there, len(refusedNames))
	if tally.adds.Load() < crashRounds || inFlightAtKill < crashRounds/2 {
		t.Errorf("%d adds acknowledged, %d kills with updates in flight: the kills did not land in a stream", tally.adds.Load(), inFlightAtKill)
	}
	sigkill(cmd)
}

func waitChan(wg *sync.WaitGroup) <-chan struct{} {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// verifyCrashNames asks for every name over UDP: each must be answered as
// its state allows, which is then what it is for sure; names only refused
// updates were sent for must not exist.
func verifyCrashNames(t *testing.T, round int, addr string, names []*crashName, refused []string, tally *crashTally) bool {
	t.Helper()
	ok := true
	for _, n := range names {
		m, err := askErr("udp", "127.0.0.7", addr, n.name, dns.TypeA, false)
		if err != nil {
			t.Errorf("round %d: %v", round, err)
			return false
		}
		there := m.Rcode == dns.RcodeSuccess && len(m.Answer) == 1 && lastA(m) == n.addr
		switch {
		case m.Rcode == dns.RcodeNameError && n.absent:
			n.present = false
		case there && n.present:
			n.absent = false
		default:
			t.Errorf("round %d: %s is %s %v, but it may only be present (%v, %s) or absent (%v): an acknowledged update is lost or a refused one got in",
				round, n.name, dns.RcodeToString[m.Rcode], m.Answer, n.present, n.addr, n.absent)
			ok = false
		}
		if n.lost {
			if there != n.lostDelete {
				tally.lostDone++
			} else {
				tally.lostUndone++
			}
			n.lost = false
		}
	}
	for _, name := range refused {
		if m, err := askErr("udp", "127.0.0.7", addr, name, dns.TypeA, false); err != nil || m.Rcode != dns.RcodeNameError {
			t.Errorf("round %d: %s, only ever refused, is %v (%v)", round, name, m, err)
			ok = false
		}
	}
	return ok
}

// crashClient is one machine sending UPDATEs until the server stops
// answering it.
type crashClient struct {
	t        *testing.T
	k, round int
	addr     string
	fl       *inflight
	rng      *rand.Rand
	steal    []*crashName
	tally    *crashTally
	busy     *atomic.Int64
}

func (c *crashClient) src() string { return fmt.Sprintf("127.0.0.%d", 20+c.k) }

// send sends one update and returns its rcode, or -1 when no reply came.
func (c *crashClient) send(src string, ops ...regOp) int {
	proto := "udp"
	if c.rng.IntN(3) == 0 {
		proto = "tcp"
	}
	c.busy.Add(1)
	defer c.busy.Add(-1)
	resp, err := c.fl.exchange(proto, src, c.addr, ops...)
	if err != nil {
		c.tally.lost.Add(1)
		return -1
	}
	return resp.Rcode
}

// expect fails the test when an update was answered other than want.
func (c *crashClient) expect(rcode, want int, ops ...regOp) {
	if rcode >= 0 && rcode != want {
		c.t.Errorf("round %d, client %s: update %v answered %s, want %s", c.round, c.src(), ops, dns.RcodeToString[rcode], dns.RcodeToString[want])
	}
}

// stream registers names (deleting some right after) with refused
// updates in between, and returns the names it sent updates for.
func (c *crashClient) stream() (mine []*crashName, refused []string) {
	for i := 0; ; i++ {
		if i%3 == 2 {
			name, rcode, ops := c.refusedUpdate(i)
			if rcode < 0 {
				return mine, refused
			}
			c.expect(rcode, dns.RcodeRefused, ops...)
			c.tally.refused.Add(1)
			if name != "" {
				refused = append(refused, name)
			}
			continue
		}
		n := &crashName{name: fmt.Sprintf("c%d-r%d-%d.corp.example.", c.k, c.round, i), addr: c.src(), absent: true, keep: i%4 != 3}
		mine = append(mine, n)
		add := addA(n.name, n.addr)
		n.present = true // sent: it may be there from now on
		rcode := c.send(c.src(), add)
		if rcode < 0 {
			n.lost = true
			return mine, refused
		}
		c.expect(rcode, dns.RcodeSuccess, add)
		if rcode == dns.RcodeSuccess {
			n.absent = false
			c.tally.adds.Add(1)
		}
		if n.keep {
			continue
		}
		del := delA(n.name)
		n.absent = true
		rcode = c.send(c.src(), del)
		if rcode < 0 {
			n.lost, n.lostDelete = true, true
			return mine, refused
		}
		c.expect(rcode, dns.RcodeSuccess, del)
		if rcode == dns.RcodeSuccess {
			n.present = false
			c.tally.deletes.Add(1)
		}
	}
}

// refusedUpdate sends an update R13 refuses: an address not the
// client's, a name another client holds, or one from a network without a
// registration link. It returns the name that must never exist ("" for a
// stolen name, whose owner's state says what it must be).
func (c *crashClient) refusedUpdate(i int) (string, int, []regOp) {
	switch c.rng.IntN(3) {
	case 0:
		if len(c.steal) > 0 {
			n := c.steal[c.rng.IntN(len(c.steal))]
			if n.addr != c.src() {
				op := addA(n.name, c.src())
				return "", c.send(c.src(), op), []regOp{op}
			}
		}
		fallthrough
	case 1:
		name := fmt.Sprintf("foreign-c%d-r%d-%d.corp.example.", c.k, c.round, i)
		op := addA(name, "127.0.0.99")
		return name, c.send(c.src(), op), []regOp{op}
	default:
		src := fmt.Sprintf("127.0.2.%d", 20+c.k)
		name := fmt.Sprintf("other-c%d-r%d-%d.corp.example.", c.k, c.round, i)
		op := addA(name, src)
		return name, c.send(src, op), []regOp{op}
	}
}
