package main

import (
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
)

func newDemoCommand() *cobra.Command {
	var dir, level string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the example offline: a fake public internet on loopback and privdns in front of it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			d, err := startDemo(dir, level, cmd.ErrOrStderr(), false)
			if err != nil {
				return err
			}
			defer d.Close()
			d.tour(out)
			fmt.Fprintln(out, "\nprivdns is running; try the dig commands above. Ctrl-C stops it.")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "example", filepath.Join("testdata", "example"), "folder of the example (privdns.yaml, public.zone, onprem.zone)")
	cmd.Flags().StringVar(&level, "log-level", "warn", "log level")
	return cmd
}

// demo is privdns serving the example, with fake public and on-premises
// resolvers on loopback standing in for the internet.
type demo struct {
	server         *server
	public, onprem *resolvertest.Server
	listen         string
	dir            string // the example's folder
}

// startDemo starts the fakes and privdns; ephemeral binds the listeners
// to free ports instead of the example's (for tests).
func startDemo(dir, level string, errOut io.Writer, ephemeral bool) (*demo, error) {
	pub, err := resolvertest.LoadPublic(filepath.Join(dir, "public.zone"))
	if err != nil {
		return nil, fmt.Errorf("demo public internet: %w", err)
	}
	onp, err := resolvertest.LoadPublic(filepath.Join(dir, "onprem.zone"))
	if err != nil {
		return nil, fmt.Errorf("demo on-premises DNS: %w", err)
	}
	cfg, err := loadConfig(filepath.Join(dir, "privdns.yaml"), errOut)
	if err != nil {
		return nil, err
	}
	printWarnings(errOut, cfg)
	d := &demo{dir: dir}
	if d.public, err = resolvertest.Start(pub); err != nil {
		return nil, err
	}
	if d.onprem, err = resolvertest.Start(onp); err != nil {
		d.Close()
		return nil, err
	}
	cfg.Upstreams.Servers = []string{d.public.Addr}
	for i := range cfg.ForwardingRulesets {
		for j := range cfg.ForwardingRulesets[i].Rules {
			cfg.ForwardingRulesets[i].Rules[j].Targets = []string{d.onprem.Addr}
		}
	}
	cfg.Server.HTTP = ""
	if ephemeral {
		for i := range cfg.Server.Listeners {
			cfg.Server.Listeners[i].Address = "127.0.0.1:0"
		}
	}
	log, _, err := newLogger(cfg.Server.Log, level, errOut)
	if err != nil {
		d.Close()
		return nil, err
	}
	if d.server, err = startServer(cfg, log); err != nil {
		d.Close()
		return nil, err
	}
	d.listen = d.server.addrs()[0]
	return d, nil
}

// Close stops privdns and the fakes.
func (d *demo) Close() {
	if d.server != nil {
		d.server.Close()
	}
	for _, s := range []*resolvertest.Server{d.public, d.onprem} {
		if s != nil {
			s.Close()
		}
	}
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
	fmt.Fprintf(out, "privdns demo: serving %s on %s (fake public internet at %s, fake on-premises DNS at %s)\n",
		d.dir, d.listen, d.public.Addr, d.onprem.Addr)
	for _, q := range demoQueries {
		src := ""
		if q.from != "127.0.0.1" {
			src = " -b " + q.from
		}
		fmt.Fprintf(out, "\n# %s (%s): %s\ndig @%s -p %s%s %s %s\n", q.who, q.from, q.note, host, port, src, q.name, dns.TypeToString[q.qtype])
		fmt.Fprintf(out, "  → %s\n", d.ask(q))
	}
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
