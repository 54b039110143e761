package listen

import (
	"context"
	"testing"

	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/resolver/enginetest"
)

// startHandler serves a dnsserver.Handler made from opts on 127.0.0.1:0
// until the test ends.
func startHandler(t *testing.T, opts dnsserver.Options) *Listener {
	t.Helper()
	return startOn(t, "127.0.0.1:0", opts, Options{})
}

// startOn serves a dnsserver.Handler made from hopts on addr with the
// listener's lopts until the test ends.
func startOn(t *testing.T, addr string, hopts dnsserver.Options, lopts Options) *Listener {
	t.Helper()
	l, err := Listen(addr, dnsserver.New(hopts), lopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Shutdown(context.Background()) })
	return l
}

// newGated returns a gatedResolver; its View has one network, 127.0.0.0/8.
func newGated(t *testing.T) *gatedResolver {
	return &gatedResolver{Engine: enginetest.New(t, false).Engine, release: make(chan struct{})}
}
