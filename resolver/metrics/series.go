package metrics

import (
	"maps"
	"sync"
	"sync/atomic"
)

// seriesMap is a copy-on-write map from a label key to ready metric handles.
// A read is one atomic load and one map lookup: no lock, no allocation, no
// label hashing by the client library. A new key copies the map under a
// mutex, which is cheap because label sets are few and stop growing soon
// after start (see the package's sharp edge). The zero value is empty.
type seriesMap[K comparable, V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[K]V]
}

// load returns the handles for k, if any.
func (s *seriesMap[K, V]) load(k K) (V, bool) {
	if m := s.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// add returns the handles for k, building them with build unless another
// caller did first.
func (s *seriesMap[K, V]) add(k K, build func() V) V {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old map[K]V
	if p := s.m.Load(); p != nil {
		old = *p
	}
	if v, ok := old[k]; ok {
		return v
	}
	next := make(map[K]V, len(old)+1)
	maps.Copy(next, old)
	v := build()
	next[k] = v
	s.m.Store(&next)
	return v
}
