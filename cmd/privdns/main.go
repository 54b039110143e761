// Command privdns is a DNS server for networks with private zones: it
// answers linked private zones per client network with Azure's resolution
// policies, follows public CNAMEs into them, and forwards the rest.
//
// This package wires the process: it maps configuration onto the resolver,
// binds listeners, and handles signals; the DNS logic lives in resolver
// and zones.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries an exit code out of a command; its message, if any,
// has been printed already.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	root := newRootCommand()
	if err := root.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "privdns:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "privdns",
		Short:         "DNS server for private zones linked to client networks",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newCheckCommand(), newExplainCommand(), newVersionCommand(), newDemoCommand(), newImportCommand(),
		newCacheCommand(), newNXDomainsCommand())
	return root
}
