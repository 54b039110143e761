package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/testdata/example"
)

func newDemoCommand() *cobra.Command {
	opts := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo [--listen ADDR]...",
		Short: "Run the example offline: a fake public internet on loopback and privdns in front of it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			opts.ErrOut = cmd.ErrOrStderr()
			d, err := startDemo(opts)
			if err != nil {
				return withBindHint(err)
			}
			defer d.Close()
			d.listening(out)
			d.tour(out)
			d.explainHint(out)
			fmt.Fprintln(out, "\nprivdns is running; try the dig commands above. Ctrl-C stops it.")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "example", "", "folder of an example to serve instead of the built-in one (privdns.yaml, public.zone, onprem.zone)")
	cmd.Flags().StringArrayVar(&opts.Listen, "listen", nil, "DNS listener address ip:port, instead of the example's (repeat for several)")
	cmd.Flags().StringVar(&opts.Level, "log-level", "warn", "log level")
	return cmd
}

// demoPublicPort is where the demo's fake internet listens when it can, so
// the README's `privdns explain --upstream 127.0.0.1:1055` reaches it.
const demoPublicPort = "127.0.0.1:1055"

// demoOptions are what the demo command and the tests choose.
type demoOptions struct {
	Dir       string   // the example's folder; "" = the one built into the binary
	Listen    []string // --listen: replaces the example's listeners
	Level     string   // log level
	ErrOut    io.Writer
	ephemeral bool // tests: the fake internet, HTTP and (without Listen) the listeners on free ports
}

// demo is privdns serving the example, with fake public and on-premises
// resolvers on loopback standing in for the internet.
type demo struct {
	server         *server
	public, onprem *resolvertest.Server
	listen         string // the first DNS listener, which the tour asks
	dir            string // the example's folder
	builtIn        bool   // dir is a copy of the built-in example, removed on Close
	tmpData        string // tests: a server.dataDir of their own, removed on Close
}

// startDemo starts the fakes and privdns.
func startDemo(o demoOptions) (*demo, error) {
	if o.ErrOut == nil {
		o.ErrOut = io.Discard
	}
	d := &demo{dir: o.Dir}
	if d.dir == "" {
		// Zone files are read from disk, relative to the configuration:
		// the built-in example is written out for as long as it runs.
		dir, err := os.MkdirTemp("", "privdns-demo-")
		if err != nil {
			return nil, err
		}
		d.dir, d.builtIn = dir, true
		if err := os.CopyFS(dir, example.Files); err != nil {
			d.Close()
			return nil, fmt.Errorf("writing the built-in example to %s: %w", dir, err)
		}
	}
	if err := d.start(o); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *demo) start(o demoOptions) error {
	pub, err := resolvertest.LoadPublic(filepath.Join(d.dir, "public.zone"))
	if err != nil {
		return fmt.Errorf("demo public internet: %w", err)
	}
	onp, err := resolvertest.LoadPublic(filepath.Join(d.dir, "onprem.zone"))
	if err != nil {
		return fmt.Errorf("demo on-premises DNS: %w", err)
	}
	cfg, err := loadConfig(filepath.Join(d.dir, "privdns.yaml"), o.ErrOut)
	if err != nil {
		return err
	}
	if err := overrideListeners(cfg, o.Listen, o.ErrOut); err != nil {
		return err
	}
	printWarnings(o.ErrOut, cfg)
	if d.public, err = startFake(pub, o.ephemeral); err != nil {
		return fmt.Errorf("demo public internet: %w", err)
	}
	if d.onprem, err = resolvertest.Start(onp); err != nil {
		return fmt.Errorf("demo on-premises DNS: %w", err)
	}
	cfg.Upstreams.Servers = []string{d.public.Addr}
	for i := range cfg.ForwardingRulesets {
		for j := range cfg.ForwardingRulesets[i].Rules {
			cfg.ForwardingRulesets[i].Rules[j].Targets = []string{d.onprem.Addr}
		}
	}
	if o.ephemeral && len(o.Listen) == 0 {
		for i := range cfg.Server.Listeners {
			cfg.Server.Listeners[i].Address = "127.0.0.1:0"
		}
	}
	if o.ephemeral && cfg.Server.HTTP != "" {
		cfg.Server.HTTP = "127.0.0.1:0"
	}
	if o.ephemeral && cfg.Server.DataDir != "" {
		// Registrations of a test never land in the example's folder.
		if d.tmpData, err = os.MkdirTemp("", "privdns-demo-data-"); err != nil {
			return err
		}
		cfg.Server.DataDir = d.tmpData
	}
	log, _, err := newLogger(cfg.Server.Log, o.Level, o.ErrOut)
	if err != nil {
		return err
	}
	if d.server, err = startServer(cfg, log); err != nil {
		return err
	}
	d.listen = d.server.addrs()[0]
	return nil
}

// startFake serves the fake internet on demoPublicPort, or on a free port
// when that one is taken (or for tests).
func startFake(h dns.Handler, ephemeral bool) (*resolvertest.Server, error) {
	if !ephemeral {
		s, err := resolvertest.StartOn(demoPublicPort, h)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			return s, err
		}
	}
	return resolvertest.Start(h)
}

// Close stops privdns and the fakes, and removes the copy of the built-in
// example.
func (d *demo) Close() {
	if d.server != nil {
		d.server.Close()
	}
	for _, s := range []*resolvertest.Server{d.public, d.onprem} {
		if s != nil {
			s.Close()
		}
	}
	if d.builtIn {
		os.RemoveAll(d.dir)
	}
	if d.tmpData != "" {
		os.RemoveAll(d.tmpData)
	}
}

// listening prints every address the demo opened.
func (d *demo) listening(out io.Writer) {
	source := d.dir
	if d.builtIn {
		source = "the built-in example (written to " + d.dir + " while the demo runs)"
	}
	fmt.Fprintf(out, "privdns demo: serving %s, offline\n", source)
	d.server.mu.Lock()
	listeners := d.server.cfg.Server.Listeners
	d.server.mu.Unlock()
	for i, addr := range d.server.addrs() {
		who := "network by source address"
		if n := listeners[i].Network; n != "" {
			who = "every query as " + n
		}
		fmt.Fprintf(out, "  DNS (UDP, TCP)         %s  %s\n", addr, who)
	}
	if h := d.server.httpAddr(); h != "" {
		fmt.Fprintf(out, "  HTTP                   %s  /metrics /healthz /readyz\n", h)
	}
	fmt.Fprintf(out, "  fake public internet   %s  answers from public.zone\n", d.public.Addr)
	fmt.Fprintf(out, "  fake on-premises DNS   %s  answers from onprem.zone\n", d.onprem.Addr)
}

type demoQuery struct {
	who, from, name string
	qtype           uint16
	note            string
}

var demoQueries = []demoQuery{
	{"Bob", "127.0.0.1", "contoso.blob.core.windows.net", dns.TypeA, "Contoso's own account: the public CNAME leads into the linked private zone"},
	{"Bob", "127.0.0.1", "fabrikam.blob.core.windows.net", dns.TypeA, "Bob's bad day: Fabrikam's CNAME leads into Bob's zone, which has no such record (Default)"},
	{"Alice", "127.0.0.2", "fabrikam.blob.core.windows.net", dns.TypeA, "the fix: Alice's link is NxDomainRedirect, so the name falls back to the public answer"},
	{"Alice", "127.0.0.2", "contoso.blob.core.windows.net", dns.TypeAAAA, "NODATA never falls back"},
	{"Bob", "127.0.0.1", "contoso-kv.vault.azure.net", dns.TypeA, "a key vault: the public CNAME crosses into privatelink.vaultcore.azure.net"},
	{"Bob", "127.0.0.1", "www.contoso.com", dns.TypeA, "a public CNAME into corp.contoso.com is resolved by the on-premises forwarding rule"},
	{"Bob", "127.0.0.1", "anything.apps.internal.contoso.com", dns.TypeA, "a wildcard in a custom private zone"},
}

// tour prints each demo query as a dig command and the answer privdns gave.
func (d *demo) tour(out io.Writer) {
	host, port, _ := net.SplitHostPort(d.listen)
	for _, q := range demoQueries {
		src := ""
		if q.from != "127.0.0.1" {
			src = " -b " + q.from
		}
		fmt.Fprintf(out, "\n# %s (%s): %s\ndig @%s -p %s%s %s %s\n", q.who, q.from, q.note, host, port, src, q.name, dns.TypeToString[q.qtype])
		fmt.Fprintf(out, "  → %s\n", d.ask(q))
	}
}

// explainHint prints the explain command that traces Alice's fallback
// against the demo's fake internet, so it agrees with dig.
func (d *demo) explainHint(out io.Writer) {
	fmt.Fprintf(out, "\n# the same fallback, step by step, against the fake internet (no server needed):\nprivdns explain --config %s --upstream %s --from 127.0.0.2 fabrikam.blob.core.windows.net\n",
		filepath.Join(d.dir, "privdns.yaml"), d.public.Addr)
}

// ask sends q to the demo server from q.from and summarises the reply.
func (d *demo) ask(q demoQuery) string {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(q.name), q.qtype)
	m.SetEdns0(1232, false)
	c := &dns.Client{Timeout: 3 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(q.from)}}}
	resp, _, err := c.Exchange(m, d.listen)
	if err != nil {
		return "error: " + err.Error()
	}
	parts := []string{dns.RcodeToString[resp.Rcode]}
	for _, rr := range resp.Answer {
		parts = append(parts, strings.Join(strings.Fields(rr.String())[3:], " "))
	}
	for _, text := range edeOf(resp) {
		parts = append(parts, "EDE: "+text)
	}
	return strings.Join(parts, " | ")
}

func edeOf(m *dns.Msg) []string {
	var out []string
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				out = append(out, e.ExtraText)
			}
		}
	}
	return out
}
