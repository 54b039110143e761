package listen

import (
	"sync"
	"time"
)

// connTable holds the TCP connections of every listener of a server, so
// that tcpConnections bounds them together, and orders the idle ones (no
// query outstanding) by how long they have been idle: a list in the order
// they became idle, from their opening or their last reply. It also owns
// each connection's read deadline, which only idleness arms.
type connTable struct {
	limits *Limits

	mu         sync.Mutex
	n          int
	head, tail *tcpConn // idle connections, idle the longest first
}

// admit takes tc in, idle from now, making room by closing the connection
// idle the longest; false (tc is to be closed) when the table is full of
// busy ones. Both count as the limit reached.
func (t *connTable) admit(tc *tcpConn, firstRead time.Duration) bool {
	set := t.limits.settings()
	t.mu.Lock()
	var evicted *tcpConn
	if t.n >= set.TCPConnections {
		if evicted = t.head; evicted == nil {
			t.mu.Unlock()
			t.limits.limited("tcpConnections")
			return false
		}
		t.drop(evicted)
	}
	t.n++
	tc.member = true
	t.push(tc)
	tc.c.SetReadDeadline(time.Now().Add(min(firstRead, set.TCPIdle)))
	t.mu.Unlock()
	if evicted != nil {
		evicted.c.Close() // its reader sees the error and ends it
		t.limits.limited("tcpConnections")
	}
	return true
}

// busy notes a query read on tc: while one is outstanding the connection
// is not idle, and has no read deadline. false when tc was closed to make
// room meanwhile.
func (t *connTable) busy(tc *tcpConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !tc.member {
		return false
	}
	tc.outstanding++
	if tc.outstanding == 1 {
		t.unlink(tc)
		tc.c.SetReadDeadline(time.Time{})
	}
	return true
}

// done notes a query of tc answered (or not to be): with none left
// outstanding the connection is idle from now, for TCPIdle at most.
func (t *connTable) done(tc *tcpConn) {
	idle := t.limits.settings().TCPIdle
	t.mu.Lock()
	defer t.mu.Unlock()
	tc.outstanding--
	if tc.outstanding > 0 || !tc.member {
		return
	}
	t.push(tc)
	tc.c.SetReadDeadline(time.Now().Add(idle))
	if tc.s.stopping() { // shutdown's deadline, set meanwhile, must win
		tc.c.SetReadDeadline(time.Unix(1, 0))
	}
}

// leave takes tc out as its reader ends.
func (t *connTable) leave(tc *tcpConn) {
	t.mu.Lock()
	if tc.member {
		t.drop(tc)
	}
	t.mu.Unlock()
}

func (t *connTable) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// drop takes tc out of the count and the idle list; t.mu is held.
func (t *connTable) drop(tc *tcpConn) {
	t.unlink(tc)
	tc.member = false
	t.n--
}

// push appends tc to the idle list; t.mu is held.
func (t *connTable) push(tc *tcpConn) {
	tc.idle, tc.prev, tc.next = true, t.tail, nil
	if t.tail != nil {
		t.tail.next = tc
	} else {
		t.head = tc
	}
	t.tail = tc
}

// unlink takes tc out of the idle list, if it is there; t.mu is held.
func (t *connTable) unlink(tc *tcpConn) {
	if !tc.idle {
		return
	}
	if tc.prev != nil {
		tc.prev.next = tc.next
	} else {
		t.head = tc.next
	}
	if tc.next != nil {
		tc.next.prev = tc.prev
	} else {
		t.tail = tc.prev
	}
	tc.idle, tc.prev, tc.next = false, nil, nil
}
