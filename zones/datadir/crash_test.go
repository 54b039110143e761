package datadir

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privdns/privdns/zones/datadir/crashtest"
)

// These tests kill a child process (this test binary, re-executed) with
// SIGKILL at many points while it writes, then check what the parent
// finds: every write the child acknowledged, nothing torn.

const (
	childEnv = "PRIVDNS_DATADIR_CHILD" // journal | zonecopy
	dirEnv   = "PRIVDNS_DATADIR_DIR"
	tearEnv  = "PRIVDNS_DATADIR_TEAR" // journal: stop in the middle of this record
	maxWrite = 5000                   // a child left alone stops by itself
)

// TestDatadirChild is the child's body; run directly, it does nothing.
func TestDatadirChild(t *testing.T) {
	dir := os.Getenv(dirEnv)
	switch os.Getenv(childEnv) {
	case "journal":
		journalChild(dir)
	case "zonecopy":
		zoneCopyChild(dir)
	default:
		t.Skip("only run as the child of a crash test")
	}
	os.Exit(0)
}

// journalChild appends rec-N records from where the journal ends,
// compacting every 16 records, and prints "ack N" once each is durable.
func journalChild(dir string) {
	s, err := Open(dir, nil)
	check(err)
	j, err := s.OpenJournal("corp.example.")
	check(err)
	next := 0
	check(j.Replay(func(r Record) error {
		var err error
		if r.Snapshot {
			next, err = strconv.Atoi(strings.TrimPrefix(string(r.Data), "upto-"))
			next++
		} else {
			next, err = strconv.Atoi(strings.TrimPrefix(string(r.Data), "rec-"))
			next++
		}
		return err
	}))
	tear, _ := strconv.Atoi(os.Getenv(tearEnv))
	writeChunk = 3 // frames go in several writes: kills land inside them
	fmt.Printf("ready %d\n", next)
	for i := next; i < next+maxWrite; i++ {
		if i > 0 && i%16 == 0 {
			check(j.Compact(fmt.Appendf(nil, "upto-%d", i-1)))
		}
		if os.Getenv(tearEnv) != "" && i == tear {
			afterChunk = func() {
				fmt.Println("torn")
				select {} // wait for the kill in the middle of the frame
			}
		}
		_, err := j.Append(fmt.Appendf(nil, "rec-%d", i))
		check(err)
		fmt.Printf("ack %d\n", i)
	}
}

// zoneCopyChild saves copies with growing serials, printing "ack N" once
// each is durable.
func zoneCopyChild(dir string) {
	s, err := Open(dir, nil)
	check(err)
	start := uint32(0)
	if c, err := s.LoadZone("corp.example."); err == nil {
		start = c.Serial + 1
	}
	c := testCopy(nil, 0)
	fmt.Printf("ready %d\n", start)
	for serial := start; serial < start+maxWrite; serial++ {
		c.Serial = serial
		check(s.SaveZone("corp.example.", c))
		fmt.Printf("ack %d\n", serial)
	}
}

func check(err error) {
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
}

// runChild starts a child and kills it once it has acknowledged acks
// writes (0: as soon as it is ready; -1: only when it says "torn"). It
// returns the last acknowledged number (-1 when none) and whether the
// child stopped mid-frame.
func runChild(t *testing.T, kind, dir string, acks int, tear string) (last int, torn bool) {
	t.Helper()
	env := []string{childEnv + "=" + kind, dirEnv + "=" + dir}
	if tear != "" {
		env = append(env, tearEnv+"="+tear)
	}
	last = crashtest.Run(t, "TestDatadirChild", env, acks, func(line string) bool {
		torn = torn || line == "torn"
		return line == "torn"
	})
	return last, torn
}

func TestJournalKeepsEveryAcknowledgedRecordThroughKills(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary many times")
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	acked := -1
	tornCuts := 0
	const rounds = 40
	for round := range rounds {
		tear, acks := "", rng.IntN(25)
		if round%4 == 3 { // every fourth child stops in the middle of a frame
			tear, acks = strconv.Itoa(acked+1+rng.IntN(5)), -1
		}
		last, torn := runChild(t, "journal", dir, acks, tear)
		if tear != "" && !torn {
			t.Fatalf("round %d: the child never reached record %s", round, tear)
		}
		acked = max(acked, last)

		j, log := openJournal(t, dir)
		snapUpTo, recs := -1, []string{}
		if err := j.Replay(func(r Record) error {
			if r.Snapshot {
				snapUpTo, _ = strconv.Atoi(strings.TrimPrefix(string(r.Data), "upto-"))
			} else {
				recs = append(recs, string(r.Data))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		j.Close()
		// The state is upto-K then rec-(K+1) … rec-M, contiguous.
		for i, r := range recs {
			if want := fmt.Sprintf("rec-%d", snapUpTo+1+i); r != want {
				t.Fatalf("round %d: record %d after snapshot upto-%d is %q, want %q", round, i, snapUpTo, r, want)
			}
		}
		have := snapUpTo + len(recs)
		if have < acked {
			t.Fatalf("round %d: journal holds up to %d, but the child acknowledged %d", round, have, acked)
		}
		if cut := strings.Contains(log, "journal torn tail cut"); cut {
			tornCuts++
		} else if torn {
			t.Fatalf("round %d: the child died mid-frame, but no torn tail was cut: %q", round, log)
		}
		acked = have // records written but not acknowledged are now held too
	}
	if acked < rounds {
		t.Errorf("only %d records in %d rounds: the children barely wrote", acked+1, rounds)
	}
	t.Logf("%d rounds, %d records, %d torn tails cut", rounds, acked+1, tornCuts)
}

func TestZoneCopySurvivesKillsWhole(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary many times")
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 2))
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	acked := -1
	for round := range 25 {
		last, _ := runChild(t, "zonecopy", dir, rng.IntN(15), "")
		acked = max(acked, last)
		s, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.LoadZone("corp.example.")
		switch {
		case err != nil && acked >= 0:
			t.Fatalf("round %d: LoadZone: %v", round, err)
		case err == nil && int(c.Serial) < acked:
			t.Fatalf("round %d: copy has serial %d, but the child acknowledged %d", round, c.Serial, acked)
		case err == nil && len(c.Records) != 5:
			t.Fatalf("round %d: copy has %d records, want 5", round, len(c.Records))
		}
		entries, _ := os.ReadDir(dir + "/zones")
		for _, e := range entries {
			if strings.Contains(e.Name(), tmpMark) {
				t.Fatalf("round %d: Open left %s", round, e.Name())
			}
		}
		if err == nil {
			acked = int(c.Serial)
		}
	}
}
