package cache

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// call is one upstream exchange shared by every request for the same key that arrives
// while it runs. msg, wire and err are set before done is closed and never change after.
type call struct {
	done     chan struct{}
	msg      *dns.Msg // the reply as kept (no question, no OPT); nil on error
	wire     []byte   // msg packed, for the waiters that do not take msg; nil if it would not pack
	taken    atomic.Bool
	err      error
	answerer string // the upstream target that answered, for the waiters' reports

	fetch // the exchange, when this call runs one: one object with the call
}

// fetch is a call's upstream exchange, run by a pool goroutine (Run): its
// inputs and its detached context live in the call, so starting one costs
// no closure and no contexts of its own.
type fetch struct {
	r   *routed
	k   key
	gen uint64
	req *dns.Msg
	cl  *call
	// Detached: the waiters may give up (or be answered stale) and log
	// their query while this runs. It reports into its own Report, which
	// the waiters copy once it is done.
	ctx report.Detached
}

// reply is one waiter's own copy of the call's message. The first waiter takes msg itself,
// as it came from the upstream (an Exchanger's reply is its caller's): most calls have one
// waiter, which then costs no copy. The others unpack wire. When msg could not be packed,
// nobody may take it while others read it, so every waiter copies it RR by RR.
func (cl *call) reply(req *dns.Msg) (*dns.Msg, error) {
	if cl.wire == nil {
		return copyReply(cl.msg, req, countDown(0)), nil
	}
	if cl.taken.CompareAndSwap(false, true) {
		return adopt(cl.msg, req), nil
	}
	return replyFrom(cl.wire, req, nil)
}

// flight collapses concurrent identical misses into one upstream exchange (a minimal
// singleflight: the exchange runs on its own goroutine, so a waiter that gives up, or a
// stale answer sent early, does not cancel it).
type flight struct {
	mu    sync.Mutex
	calls map[key]*call

	joined func() // test hook: a request joined a call already in flight
}

// join returns the call in flight for k, or registers a new one and hands it to start.
func (f *flight) join(k key, start func(*call)) *call {
	f.mu.Lock()
	if cl, ok := f.calls[k]; ok {
		f.mu.Unlock()
		if f.joined != nil {
			f.joined()
		}
		return cl
	}
	if f.calls == nil {
		f.calls = make(map[key]*call)
	}
	cl := &call{done: make(chan struct{})}
	f.calls[k] = cl
	f.mu.Unlock()
	start(cl)
	return cl
}

// finish publishes the result and lets the next miss for k start a new call.
func (f *flight) finish(k key, cl *call, msg *dns.Msg, wire []byte, err error) {
	cl.msg, cl.wire, cl.err = msg, wire, err
	f.mu.Lock()
	delete(f.calls, k)
	f.mu.Unlock()
	close(cl.done)
}

// refresh asks next for k unless a call for k is already running, and returns that call
// and whether it ran here. The exchange is detached from ctx's cancellation (next must
// bound its own time), and stores its result before waking the waiters, so a request
// that arrives after them finds the new entry.
//
// It runs in the background, on a pool goroutine, unless inline asks for it on the
// caller's: a waiter with nothing stale to answer early waits for it anyway, and running
// it saves two goroutine hand-offs and a timer per cold miss. Inline, the exchange is
// bounded by ctx's deadline (next caps its waits by Deadline). Should that cut it short,
// the waiter gets cut, its error, and the fetch starts again in the background, without
// a deadline, for the requests that joined it and for the cache, as a background fetch
// would have gone on; nothing is remembered of the exchange cut short.
func (r *routed) refresh(ctx context.Context, k key, req *dns.Msg, inline bool) (cl *call, ran bool, cut error) {
	cl = r.c.flight.join(k, func(cl *call) {
		cl.fetch = fetch{r: r, k: k, gen: r.c.gen.Load(), req: req, cl: cl}
		cl.fetch.ctx.Init(ctx)
		if waiter := report.From(ctx); waiter != nil {
			cl.fetch.ctx.Report.Budget = waiter.Budget // the query that starts it pays for it
		}
		if !inline {
			r.c.fetch.GoTask(&cl.fetch)
			return
		}
		if d, ok := ctx.Deadline(); ok {
			cl.fetch.ctx.SetDeadline(d)
		}
		ran = true
		cut = cl.fetch.run(true)
	})
	return cl, ran, cut
}

// Run asks the upstream, stores the result and wakes the waiters, in the
// background (a workers.Task).
func (f *fetch) Run() { _ = f.run(false) }

// run is Run, or refresh's inline fetch: see refresh for what it returns.
// Should next panic, the waiters are woken with an error before the panic
// goes on (inline, the handler recovers it): a call left in flight would
// hold every later miss for its key.
func (f *fetch) run(inline bool) (cut error) {
	r, k, cl := f.r, f.k, f.cl
	finished := false
	defer func() {
		if !finished {
			r.c.flight.finish(k, cl, nil, nil, fmt.Errorf("cache: %s %s: the upstream exchange panicked",
				k.name, dns.TypeToString[k.qtype]))
		}
	}()
	reply, err := r.next.Exchange(&f.ctx, f.req) // handed over: the caller leaves it alone
	cutShort := inline && err != nil && f.ctx.Err() != nil
	f.ctx.End() // a timer for an inline deadline, if one was armed
	if cutShort {
		// Cut short by the waiter's deadline: a new fetch, detached
		// without one, takes the call on (rare: one object more).
		again := &fetch{r: r, k: k, gen: f.gen, req: f.req, cl: cl}
		again.ctx.Init(f.ctx.Parent())
		again.ctx.Report.Budget = f.ctx.Report.Budget
		finished = true
		r.c.fetch.GoTask(again)
		return err
	}
	cl.answerer = f.ctx.Report.Answerer
	if err == nil && reply == nil {
		err = fmt.Errorf("cache: %s %s: upstream returned no reply and no error",
			k.name, dns.TypeToString[k.qtype])
	}
	msg, wire := r.c.remember(k, f.gen, reply, err)
	finished = true
	r.c.flight.finish(k, cl, msg, wire, err)
	return nil
}
