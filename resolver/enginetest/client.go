package enginetest

import (
	"context"

	"github.com/miekg/dns"
)

// Client is a public route that asks one fake server with a plain
// dns.Client: NOERROR and NXDOMAIN are answers, other rcodes errors.
type Client struct{ Addr string }

// Exchange asks the server.
func (c Client) Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	resp, _, err := new(dns.Client).ExchangeContext(ctx, req, c.Addr)
	if err != nil {
		return nil, err
	}
	if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
		return nil, &RcodeError{resp.Rcode}
	}
	return resp, nil
}

// RcodeError is an upstream's unusable rcode.
type RcodeError struct{ Rcode int }

func (e *RcodeError) Error() string { return "upstream answered " + dns.RcodeToString[e.Rcode] }
