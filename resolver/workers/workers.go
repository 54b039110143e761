// Package workers runs short tasks on goroutines that outlive them.
//
// A cold miss used to start two goroutines (the listener's answer and the
// cache's upstream fetch), and each grew its stack through the same deep
// calls every time: a twentieth of the CPU of a cold miss went to copying
// stacks. A Pool hands each task to an idle goroutine whose stack has
// grown already, and starts one only when none is idle. Idle goroutines
// end after a while, so a quiet server keeps none.
package workers

import (
	"sync"
	"sync/atomic"
	"time"
)

// DefaultIdle is how long a goroutine of a Pool waits for another task
// before it ends.
const DefaultIdle = time.Second

// Pool runs tasks on reused goroutines. Its zero value is not usable: use
// New. Its methods are safe for concurrent use.
type Pool struct {
	idle    time.Duration
	work    chan Task // unbuffered: a send succeeds only into an idle goroutine
	done    chan struct{}
	once    sync.Once
	workers sync.WaitGroup
	started atomic.Int64 // goroutines started, for tests

	// The tasks not yet returned, for Wait. Not a WaitGroup: a WaitGroup
	// asks that an Add from zero happen before Wait, and callers order
	// them through things the race detector cannot see (a test waits
	// after the server's UDP reply tells it a refresh has begun). An
	// atomic counter orders every Go before the Wait that reads its
	// count, and costs Go no lock; mu is taken only to wake waiters.
	pending atomic.Int64
	mu      sync.Mutex
	settled sync.Cond // broadcast, under mu, when pending falls to 0
}

// New returns a Pool whose idle goroutines end after idle (DefaultIdle
// when 0).
func New(idle time.Duration) *Pool {
	if idle <= 0 {
		idle = DefaultIdle
	}
	p := &Pool{idle: idle, work: make(chan Task), done: make(chan struct{})}
	p.settled.L = &p.mu
	return p
}

// Go runs task on an idle goroutine of the pool, or on a new one. It never
// blocks and never limits how many tasks run at once: callers bound that.
func (p *Pool) Go(task func()) { p.GoTask(funcTask(task)) }

// A Task is work for GoTask. A pointer to a struct that holds its inputs
// is a Task without the allocation a closure over them would be.
type Task interface{ Run() }

type funcTask func()

func (f funcTask) Run() { f() }

// GoTask is Go for a Task.
func (p *Pool) GoTask(task Task) {
	p.pending.Add(1)
	select {
	case p.work <- task:
		return
	default:
	}
	p.workers.Add(1)
	p.started.Add(1)
	go p.worker(task)
}

// worker runs task, then the tasks sent to it until it has been idle for
// p.idle, or for up to twice that. Its timer is not reset after every task
// (that takes the timer heap's lock), nor is the clock read (a fair part
// of a short task's CPU): when the timer fires after tasks ran, the worker
// waits p.idle more, and ends when it fires after none.
func (p *Pool) worker(task Task) {
	defer p.workers.Done()
	timer := time.NewTimer(p.idle)
	defer timer.Stop()
	for {
		p.run(task)
		ran := true
	wait:
		select {
		case task = <-p.work:
		case <-timer.C:
			if ran {
				ran = false
				timer.Reset(p.idle)
				goto wait
			}
			return
		case <-p.done:
			return
		}
	}
}

func (p *Pool) run(task Task) {
	defer p.taskDone()
	task.Run()
}

func (p *Pool) taskDone() {
	if p.pending.Add(-1) == 0 {
		p.mu.Lock() // a Wait that saw the count above 0 is waiting by now
		p.settled.Broadcast()
		p.mu.Unlock()
	}
}

// Wait waits until every task given to Go before it has returned.
func (p *Pool) Wait() {
	p.mu.Lock()
	for p.pending.Load() > 0 {
		p.settled.Wait()
	}
	p.mu.Unlock()
}

// Close ends the idle goroutines now, and each busy one once its task
// returns, and waits for them. Tasks given after Close still run, each on
// a goroutine of its own.
func (p *Pool) Close() {
	p.Stop()
	p.workers.Wait()
}

// Stop is Close without the wait: the goroutines end on their own.
func (p *Pool) Stop() { p.once.Do(func() { close(p.done) }) }
