package workers

import (
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
	if n := runtime.NumGoroutine() - before; n > 0 {
		t.Errorf("%d goroutines left after Close", n)
	}
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
	if n := runtime.NumGoroutine() - before; n > 0 {
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
