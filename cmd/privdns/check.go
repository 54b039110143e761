package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/privdns/privdns/config"
)

func newCheckCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate a configuration and its zone files; print every error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(file, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			printWarnings(cmd.ErrOrStderr(), cfg)
			links, rules := 0, 0
			for _, z := range cfg.Zones {
				links += len(z.Links)
			}
			for _, rs := range cfg.ForwardingRulesets {
				rules += len(rs.Rules)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK: %d networks, %d zones, %d links, %d forwarding rules, %d listeners\n",
				cfg.File, len(cfg.Networks), len(cfg.Zones), links, rules, len(cfg.Server.Listeners))
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "configuration file (required)")
	cmd.MarkFlagRequired("config") //nolint:errcheck // the flag exists
	return cmd
}

// loadConfig loads file, or with file "" ./privdns.yaml when it exists,
// else the embedded default. Problems and warnings go to errOut; a broken
// configuration returns exitError{1}.
func loadConfig(file string, errOut io.Writer) (*config.Config, error) {
	var cfg *config.Config
	var err error
	switch {
	case file != "":
		cfg, err = config.Load(file)
	case fileExists("privdns.yaml"):
		cfg, err = config.Load("privdns.yaml")
	default:
		cfg, err = config.Default()
	}
	if err != nil {
		var problems config.Errors
		if errors.As(err, &problems) {
			for _, p := range problems {
				fmt.Fprintln(errOut, p.Error())
			}
			fmt.Fprintf(errOut, "%d problem(s); nothing is served from this configuration\n", len(problems))
		} else {
			fmt.Fprintln(errOut, "privdns:", err)
		}
		return nil, exitError{1}
	}
	return cfg, nil
}

// overrideListeners replaces cfg's listeners with the --listen addresses,
// if any; a bad one is printed like a configuration problem.
func overrideListeners(cfg *config.Config, listen []string, errOut io.Writer) error {
	if len(listen) == 0 {
		return nil
	}
	if err := cfg.OverrideListeners(listen); err != nil {
		fmt.Fprintln(errOut, err)
		return exitError{1}
	}
	return nil
}

// printWarnings prints the configuration's warnings for a person at a
// terminal; serve logs them instead, in the log's format.
func printWarnings(errOut io.Writer, cfg *config.Config) {
	for _, w := range cfg.Warnings {
		fmt.Fprintln(errOut, "warning:", w)
	}
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}
