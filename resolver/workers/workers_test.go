package workers

import (
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Tasks run once each; one after another they reuse one goroutine; Wait
// waits for them; Close ends the idle goroutines.
func TestPoolReusesGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	p := New(time.Hour)
	var ran atomic.Int32
	for range 100 {
		done := make(chan struct{})
		p.Go(func() { ran.Add(1); close(done) })
		<-done
		time.Sleep(time.Millisecond) // the goroutine gets back to waiting (not a timing assertion)
	}
	p.Wait()
	if ran.Load() != 100 {
		t.Fatalf("%d tasks ran, want 100", ran.Load())
	}
	if n := p.started.Load(); n > 10 {
		t.Errorf("%d goroutines started for 100 tasks run one after another, want about 1", n)
	}
	p.Close()
	if n := goroutinesLeft(before); n > 0 {
		t.Errorf("%d goroutines left after Close", n)
	}
}

// goroutinesLeft is how many goroutines more than before there are. A worker
// counted out by Done may not have exited yet, so it gives them a moment.
func goroutinesLeft(before int) int {
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	return runtime.NumGoroutine() - before
}

// Concurrent tasks each get a goroutine: Go never waits for a busy one.
func TestPoolNeverWaitsForABusyGoroutine(t *testing.T) {
	p := New(time.Hour)
	defer p.Close()
	var started sync.WaitGroup
	release := make(chan struct{})
	started.Add(20)
	for range 20 {
		p.Go(func() { started.Done(); <-release })
	}
	started.Wait() // all 20 run at once, or this never returns
	close(release)
	p.Wait()
}

// Idle goroutines end on their own after the idle time.
func TestIdleGoroutinesEnd(t *testing.T) {
	before := runtime.NumGoroutine()
	p := New(time.Millisecond)
	p.Go(func() {})
	p.Wait()
	p.workers.Wait() // returns only once the idle goroutine ended by itself
	if n := goroutinesLeft(before); n > 0 {
		t.Errorf("%d goroutines left", n)
	}
}

// A goroutine busy when its idle timer fires goes on serving: it ends only
// after idle time without a task.
func TestBusyGoroutineOutlivesItsTimer(t *testing.T) {
	const idle = 50 * time.Millisecond
	p := New(idle)
	defer p.Close()
	release, done := make(chan struct{}), make(chan struct{})
	p.Go(func() { <-release; close(done) })
	time.Sleep(2 * idle) // the timer fires while the task runs (not a timing assertion)
	close(release)
	<-done
	time.Sleep(time.Millisecond) // the goroutine gets back to waiting
	again := make(chan struct{})
	p.Go(func() { close(again) })
	<-again
	if n := p.started.Load(); n != 1 {
		t.Errorf("%d goroutines started, want the busy one reused", n)
	}
}

// BenchmarkGo: a task handed to an idle goroutine, and waited for.
func BenchmarkGo(b *testing.B) {
	p := New(time.Hour)
	defer p.Close()
	done := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		p.Go(func() { done <- struct{}{} })
		<-done
	}
}

// Wait may learn of a task through something the race detector does not
// see: a cache's refresh starts on a server's worker, the server's UDP
// reply reaches the test, and the test waits for the refresh. A
// sync.WaitGroup reports that as a misuse (its Add from zero is not
// ordered before Wait), which failed the -race suite now and then. The
// Go here is told of by a datagram, as in that test.
func TestWaitAfterHearingOfTheTaskByDatagram(t *testing.T) {
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()

	p := New(time.Hour)
	defer p.Close()
	for range 20 {
		release := make(chan struct{})
		var finished atomic.Bool
		go func() {
			p.Go(func() { <-release; finished.Store(true) })
			if _, err := tx.WriteToUDP([]byte{1}, rx.LocalAddr().(*net.UDPAddr)); err != nil {
				t.Error(err)
			}
		}()
		if _, _, err := rx.ReadFromUDP(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		// The release comes a little later so that Wait has blocked by
		// then (the case the WaitGroup checked); not a timing assertion.
		time.AfterFunc(5*time.Millisecond, func() { close(release) })
		p.Wait()
		if !finished.Load() {
			t.Fatal("Wait returned before the task did")
		}
	}
}
