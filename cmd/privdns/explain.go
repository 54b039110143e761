package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/datadir"
	"github.com/privdns/privdns/zones/registration"
)

func newExplainCommand() *cobra.Command {
	var file, from, network string
	var upstreams []string
	cmd := &cobra.Command{
		Use:   "explain --config FILE --from IP [--upstream ADDR]... NAME [TYPE]",
		Short: "Resolve NAME as a client at IP would, printing every step",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := netip.ParseAddr(from)
			if err != nil {
				return fmt.Errorf("--from %q: not an IP address", from)
			}
			if _, ok := dns.IsDomainName(args[0]); !ok {
				return fmt.Errorf("%q: not a domain name", args[0])
			}
			qtype := dns.TypeA
			if len(args) == 2 {
				t, err := parseType(args[1])
				if err != nil {
					return err
				}
				qtype = t
			}
			cfg, err := loadConfig(file, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if len(upstreams) > 0 {
				if err := cfg.OverrideUpstreams(upstreams); err != nil {
					return err
				}
			}
			printWarnings(cmd.ErrOrStderr(), cfg)
			if network != "" && !hasNetwork(cfg, network) {
				return fmt.Errorf("--network %q: no such network in %s", network, cfg.File)
			}
			txn := newGroupPool(nil).begin()
			defer txn.abort()
			sources, regs := zoneSources(cmd.OutOrStdout(), cfg)
			view, err := build(cfg, deps{log: slog.New(slog.DiscardHandler), groups: txn, sources: sources})
			if err != nil {
				return err
			}
			engine := resolver.NewEngine(resolver.EngineOptions{View: view})
			return explain(cmd.Context(), cmd.OutOrStdout(), engine, regs, client, network, args[0], qtype)
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "configuration file (required)")
	cmd.Flags().StringVar(&from, "from", "", "client source address (required)")
	cmd.Flags().StringVar(&network, "network", "", "resolve as this network, like a listener bound to it")
	cmd.Flags().StringArrayVar(&upstreams, "upstream", nil, "ask this upstream (ip:port) instead of upstreams.servers (repeat for several)")
	cmd.MarkFlagRequired("config") //nolint:errcheck // the flag exists
	cmd.MarkFlagRequired("from")   //nolint:errcheck // the flag exists
	return cmd
}

// zoneSources gives explain the data the server keeps in server.dataDir,
// read without touching it, and says where it comes from: the copies of
// the secondary zones (R12) and the registrations of the registration
// zones (R13), which it also returns. Without a copy a secondary zone has
// no data here, and its names are SERVFAIL as on a server before its first
// transfer.
func zoneSources(out io.Writer, cfg *config.Config) ([]resolver.ZoneSource, []*registration.Registry) {
	sources := make([]resolver.ZoneSource, len(cfg.Zones))
	var regs []*registration.Registry
	var store *datadir.Store
	if cfg.Server.DataDir != "" {
		store, _ = datadir.OpenReadOnly(cfg.Server.DataDir)
	}
	for i, z := range cfg.Zones {
		if !z.Secondary() && z.Registration != nil {
			if reg := readRegistrations(out, cfg, store, &cfg.Zones[i]); reg != nil {
				sources[i] = reg
				regs = append(regs, reg)
			}
			continue
		}
		if !z.Secondary() {
			continue
		}
		where := "secondary zone " + strings.TrimSuffix(z.Name, ".") + " (primaries " + strings.Join(z.Primaries, ", ") + "): "
		if z.Registration.Replica() {
			where = "registration replica of zone " + strings.TrimSuffix(z.Name, ".") + " (updates forwarded to " + z.Registration.Primary +
				", data from primaries " + strings.Join(z.Primaries, ", ") + "): "
		}
		if store == nil {
			fmt.Fprintln(out, where+"no server.dataDir, so no copy to read here; its names are SERVFAIL in this explain")
			continue
		}
		c, err := store.LoadZone(z.Name)
		if err != nil {
			fmt.Fprintf(out, "%sno copy in %s (%v); its names are SERVFAIL in this explain\n", where, cfg.Server.DataDir, err)
			continue
		}
		data, _, err := zones.Transferred(z.Name, c.Records)
		if err != nil {
			fmt.Fprintf(out, "%sthe copy in %s is unusable (%v); its names are SERVFAIL in this explain\n", where, cfg.Server.DataDir, err)
			continue
		}
		expire := time.Duration(data.SOA().Expire) * time.Second
		if !time.Now().Before(c.Checked.Add(expire)) {
			// As the server does (R12): no primary confirmed the copy for
			// its SOA expire, so the zone answers SERVFAIL.
			fmt.Fprintf(out, "%sexpired: the copy in %s (serial %d) was last confirmed by a primary %s, more than its SOA expire (%s) ago; its names are SERVFAIL\n",
				where, cfg.Server.DataDir, c.Serial, c.Checked.UTC().Format(time.RFC3339), expire)
			continue
		}
		fmt.Fprintf(out, "%sdata from the copy in %s: serial %d, last confirmed by a primary %s\n", where, cfg.Server.DataDir, c.Serial, c.Checked.UTC().Format(time.RFC3339))
		sources[i] = fixedZone{data}
		if z.Registration.Replica() {
			sources[i] = registration.NewHeld(data, registrationSettings(&cfg.Zones[i]))
		}
	}
	return sources, regs
}

// explain resolves one query with a tracer and prints the steps, then the
// final answer as dig would show it.
func explain(ctx context.Context, out io.Writer, r resolver.Resolver, regs []*registration.Registry, client netip.Addr, network, name string, qtype uint16) error {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(dnsserver.UDPSize, false)
	// Read the question back from the wire, as the server would: a name
	// typed with escapes ("sp\032ace") is then spelt as a client's is.
	wire, err := m.Pack()
	if err == nil {
		err = m.Unpack(wire)
	}
	if err != nil {
		return fmt.Errorf("%q: %w", name, err)
	}
	steps := &stepPrinter{out: out}
	q := &resolver.Query{Msg: m, Client: client, Network: network, Proto: "udp", Trace: steps.print}
	fmt.Fprintf(out, "query: %s %s from %s\n", m.Question[0].Name, dns.Type(qtype), client)
	resp, err := r.Resolve(ctx, q)
	if err != nil {
		fmt.Fprintf(out, "final: SERVFAIL (%s)\n", steps.once(err))
		return nil
	}
	fmt.Fprintf(out, "final: %s\n", dns.RcodeToString[resp.Rcode])
	printSection(out, "answer", resp.Answer)
	printSection(out, "authority", resp.Ns)
	for _, rr := range resp.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			for _, o := range opt.Option {
				if e, ok := o.(*dns.EDNS0_EDE); ok {
					fmt.Fprintf(out, "  EDE %d (%s): %s\n", e.InfoCode, dns.ExtendedErrorCodeToString[e.InfoCode], e.ExtraText)
				}
			}
		}
	}
	printRegistrations(out, regs, m.Question[0].Name, resp, time.Now())
	return nil
}

// stepPrinter numbers the steps of a trace and prints an error's text
// once: the step that failed and the final line that fails because of it
// refer back to the step that said it.
type stepPrinter struct {
	out   io.Writer
	step  int
	said  []string // error texts printed so far
	where []int    // the step that printed each
}

func (p *stepPrinter) print(format string, args ...any) {
	p.step++
	for i, a := range args {
		if err, ok := a.(error); ok {
			args[i] = p.once(err)
		}
	}
	fmt.Fprintf(p.out, "%2d. %s\n", p.step, fmt.Sprintf(format, args...))
}

// once returns err's text the first time; later, the text with what an
// earlier step already said replaced by a reference to that step.
func (p *stepPrinter) once(err error) string {
	text := err.Error()
	best := -1
	for i, s := range p.said {
		if strings.Contains(text, s) && (best < 0 || len(s) > len(p.said[best])) {
			best = i
		}
	}
	if best < 0 {
		p.said = append(p.said, text)
		p.where = append(p.where, p.step)
		return text
	}
	ref := fmt.Sprintf("the error of step %d", p.where[best])
	if text == p.said[best] {
		return ref
	}
	return strings.Replace(text, p.said[best], "("+ref+")", 1)
}

func hasNetwork(cfg *config.Config, name string) bool {
	for _, n := range cfg.Networks {
		if n.Name == name {
			return true
		}
	}
	return false
}

func printSection(out io.Writer, name string, rrs []dns.RR) {
	if len(rrs) == 0 {
		return
	}
	fmt.Fprintf(out, "  %s:\n", name)
	for _, rr := range rrs {
		fmt.Fprintf(out, "    %s\n", strings.ReplaceAll(rr.String(), "\t", " "))
	}
}

// parseType reads a query type by mnemonic (AAAA) or in the generic
// syntax of RFC 3597 (TYPE65).
func parseType(s string) (uint16, error) {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok {
		return t, nil
	}
	if n, ok := strings.CutPrefix(u, "TYPE"); ok {
		if t, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(t), nil
		}
	}
	return 0, fmt.Errorf("unknown query type %q (a mnemonic such as AAAA, or TYPE65)", s)
}
