package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/privdns/privdns/resolver/missing"
)

// defaultAdmin is where the operating commands look for the admin API.
const defaultAdmin = "127.0.0.1:9154"

func newCacheCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "cache", Short: "Act on a running privdns's cache (through server.admin)"}
	var qtype, admin string
	flush := &cobra.Command{
		Use:   "flush [NAME] [--type TYPE] [--admin ADDR]",
		Short: "Drop cached answers: all of them, or those to NAME (of one TYPE) on every route",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if len(args) == 1 {
				q.Set("name", args[0])
			}
			if qtype != "" {
				if len(args) == 0 {
					fmt.Fprintln(cmd.ErrOrStderr(), "privdns: --type needs a NAME: privdns cache flush NAME --type TYPE")
					return exitError{1}
				}
				q.Set("type", qtype)
			}
			var res flushResult
			if err := callAdmin(cmd, http.MethodPost, admin, "/cache/flush", q, &res); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case res.Name == "":
				fmt.Fprintf(out, "flushed the whole cache (%d answers) and every ready-packed reply\n", res.Flushed)
			case res.Type == "":
				fmt.Fprintf(out, "flushed %d cached answers to %s (every type, every route); names below it are kept\n", res.Flushed, res.Name)
			default:
				fmt.Fprintf(out, "flushed %d cached answers to %s %s (every route)\n", res.Flushed, res.Name, res.Type)
			}
			return nil
		},
	}
	flush.Flags().StringVar(&qtype, "type", "", "only answers of this type (needs NAME)")
	flush.Flags().StringVar(&admin, "admin", defaultAdmin, "the admin API's address (server.admin)")
	cmd.AddCommand(flush)
	return cmd
}

func newNXDomainsCommand() *cobra.Command {
	var zone, admin string
	var limit int
	cmd := &cobra.Command{
		Use:   "nxdomains [--zone ZONE] [--admin ADDR]",
		Short: "The names most often answered NXDOMAIN by Default links since privdns started",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if zone != "" {
				q.Set("zone", zone)
			}
			q.Set("limit", strconv.Itoa(limit))
			var entries []missing.Entry
			if err := callAdmin(cmd, http.MethodGet, admin, "/nxdomains", q, &entries); err != nil {
				return err
			}
			printNXDomains(cmd.OutOrStdout(), zone, entries)
			return nil
		},
	}
	cmd.Flags().StringVar(&zone, "zone", "", "only names of this private zone")
	cmd.Flags().IntVar(&limit, "limit", 10, "at most this many names")
	cmd.Flags().StringVar(&admin, "admin", defaultAdmin, "the admin API's address (server.admin)")
	return cmd
}

// printNXDomains writes the report for people: a table, then what to do
// about each missing name.
func printNXDomains(out io.Writer, zone string, entries []missing.Entry) {
	if len(entries) == 0 {
		if zone != "" {
			fmt.Fprintf(out, "no name of zone %s was answered NXDOMAIN by a Default link since privdns started\n", zone)
		} else {
			fmt.Fprintln(out, "no name was answered NXDOMAIN by a Default link since privdns started")
		}
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNT\tNAME\tZONE\tNETWORK\tLINK")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Count, e.Name, e.Zone, e.Network, e.Link)
	}
	tw.Flush()
	fmt.Fprintln(out)
	for _, e := range entries {
		fmt.Fprintf(out, "%s is missing in private zone %s: network %s asked for it %d times and got NXDOMAIN from link %s (Default).\n"+
			"  Add the record to the zone, or set resolutionPolicy: NxDomainRedirect on link %s to resolve it publicly.\n",
			e.Name, strings.TrimSuffix(e.Zone, "."), e.Network, e.Count, e.Link, e.Link)
	}
}

// callAdmin sends one request to the admin API at addr and decodes its
// JSON answer into v. An unreachable address or an error answer is
// printed on stderr and returned as exitError{1}.
func callAdmin(cmd *cobra.Command, method, addr, path string, q url.Values, v any) error {
	u := url.URL{Scheme: "http", Host: addr, Path: path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(cmd.Context(), method, u.String(), nil)
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "privdns: admin API %s: %v\n", addr, err)
		return exitError{1}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "privdns: cannot reach the admin API at %s: %v\n"+
			"  Is privdns running with server.admin: %q? Point at another address with --admin.\n", addr, unwrapURLError(err), addr)
		return exitError{1}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "privdns: admin API %s: reading the answer: %v\n", addr, err)
		return exitError{1}
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(cmd.ErrOrStderr(), "privdns: admin API %s: %s: %s\n", addr, resp.Status, strings.TrimSpace(string(body)))
		return exitError{1}
	}
	if err := json.Unmarshal(body, v); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "privdns: admin API %s: the answer is not what privdns sends: %v\n", addr, err)
		return exitError{1}
	}
	return nil
}

// unwrapURLError drops the method and URL that net/http puts around a
// dial error: the message already names the address.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
