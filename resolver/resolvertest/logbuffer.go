package resolvertest

import (
	"bytes"
	"sync"
)

// LogBuffer is a log sink a test may read while servers write to it: the
// race detector cannot see that a reply on the wire orders the two.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is what was written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Len is the length of what was written so far.
func (b *LogBuffer) Len() int { return len(b.String()) }
