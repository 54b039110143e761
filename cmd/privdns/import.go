package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/privdns/privdns/config"
	"github.com/privdns/privdns/config/azure"
)

func newImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Write a privdns configuration from another system's",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newImportAzureCommand())
	return cmd
}

// importAzureFlags are the flags of `privdns import azure` (SPEC §7).
type importAzureFlags struct {
	from, out      string
	upstreams      []string
	autoregistered string
	force          bool
}

func newImportAzureCommand() *cobra.Command {
	var f importAzureFlags
	cmd := &cobra.Command{
		Use:   "azure --from DIR --out DIR",
		Short: "Import an Azure Private DNS estate from what the Azure CLI prints",
		Long: "Reads every *.json file below --from, each what one Azure CLI command printed\n" +
			"with -o json (zones, record sets, links, VNets, forwarding rulesets, rules and\n" +
			"their links), and writes privdns.yaml and the zone files to --out. Nothing is\n" +
			"written when anything is wrong.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImportAzure(f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "folder of JSON printed by the az commands (required)")
	fl.StringVar(&f.out, "out", "", "folder to write privdns.yaml and zones/ to (required; must be empty or missing)")
	fl.StringArrayVar(&f.upstreams, "upstream", nil, "upstreams.servers entry, HOST:PORT (repeat for several; in Azure 168.63.129.16:53)")
	fl.StringVar(&f.autoregistered, "autoregistered", "records", "auto-registered record sets: records (written, with a comment) or skip")
	fl.BoolVar(&f.force, "force", false, "replace a non-empty --out as a whole")
	cmd.MarkFlagRequired("from") //nolint:errcheck // the flag exists
	cmd.MarkFlagRequired("out")  //nolint:errcheck // the flag exists
	return cmd
}

func runImportAzure(f importAzureFlags, out, errOut io.Writer) error {
	fail := func(format string, args ...any) error {
		fmt.Fprintf(errOut, "privdns import azure: "+format+"\n", args...)
		return exitError{1}
	}
	opts := azure.Options{DataDir: "data"} // server.dataDir of registration-enabled links (SPEC §7)
	switch f.autoregistered {
	case "records":
	case "skip":
		opts.SkipAutoregistered = true
	default:
		return fail("--autoregistered %q: want records or skip", f.autoregistered)
	}
	for _, u := range f.upstreams {
		s, err := upstreamFlag(u)
		if err != nil {
			return fail("--upstream %q: %v", u, err)
		}
		opts.Upstreams = append(opts.Upstreams, s)
	}
	if st, err := os.Stat(f.from); err != nil || !st.IsDir() {
		return fail("--from %s: not a folder", f.from)
	}
	if err := outsideOf(f.out, f.from); err != nil {
		return fail("--out %s: %v", f.out, err)
	}

	res, err := azure.Import(os.DirFS(f.from), opts)
	for _, n := range res.Notices {
		fmt.Fprintln(errOut, "notice:", n)
	}
	if err != nil {
		return importFailed(err, f.out, errOut)
	}
	if err := azure.Write(f.out, res.Files, azure.WriteOptions{Force: f.force, Check: checkImported}); err != nil {
		return importFailed(err, f.out, errOut)
	}
	for _, line := range res.Summary {
		fmt.Fprintln(out, line)
	}
	conf := filepath.Join(f.out, azure.ConfigFile)
	files := fmt.Sprintf("%d zone files", len(res.Files)-1)
	if len(res.Files) == 2 {
		files = "1 zone file"
	}
	fmt.Fprintf(out, "wrote %s and %s; next: privdns check --config %s\n", conf, files, conf)
	return nil
}

// importFailed prints why nothing was written to out and returns exit 1.
func importFailed(err error, out string, errOut io.Writer) error {
	var problems azure.Problems
	var invalid config.Errors
	switch {
	case errors.As(err, &problems):
		for _, p := range problems {
			fmt.Fprintln(errOut, p.Error())
		}
		fmt.Fprintf(errOut, "%d problem(s); nothing written to %s\n", len(problems), out)
	case errors.As(err, &invalid):
		for _, p := range invalid {
			fmt.Fprintln(errOut, p.Error())
		}
		fmt.Fprintf(errOut, "privdns import azure: the configuration made from the input does not pass privdns check (an importer bug: please report it); nothing written to %s\n", out)
	default:
		fmt.Fprintf(errOut, "privdns import azure: %v; nothing written to %s\n", err, out)
	}
	return exitError{1}
}

// checkImported loads the written configuration with privdns's own loader
// before it takes --out's place, so that what is written always passes
// `privdns check`.
func checkImported(dir string) error {
	_, err := config.Load(filepath.Join(dir, azure.ConfigFile))
	return err
}

// upstreamFlag checks an --upstream value: an IP address with an optional
// port, or tls://IP:port#name as upstreams.servers takes them.
func upstreamFlag(s string) (string, error) {
	if strings.HasPrefix(s, "tls://") {
		return s, nil // left to the configuration's own check
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), nil
	}
	if ip, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(ip, 53).String(), nil
	}
	return "", errors.New("want HOST:PORT with an IP address, such as 168.63.129.16:53")
}

// outsideOf refuses an output folder that holds the input or the working
// directory: --force replaces the output folder as a whole.
func outsideOf(out, from string) error {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		if r, err := filepath.EvalSymlinks(a); err == nil {
			return r
		}
		return a
	}
	o := abs(out)
	wd, _ := os.Getwd()
	for _, inner := range []string{abs(from), abs(wd)} {
		if rel, err := filepath.Rel(o, inner); err == nil && filepath.IsLocal(rel) || rel == "." {
			return fmt.Errorf("holds %s: the output folder is replaced as a whole", inner)
		}
	}
	return nil
}
