package main

import "github.com/spf13/cobra"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "tandem",
		Short:         "Tandem: reverse and classic mentoring programs, matched from data",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cliError{code: exitUsage, msg: err.Error()} })
	c := &client{}
	c.addFlags(root)
	root.AddCommand(newDevCmd(), newTokenCmd(), newTenantCmd(), newBenchCmd(), newProfileCmd(c))
	for _, newCmd := range apiCommands {
		root.AddCommand(newCmd(c))
	}
	return root
}
