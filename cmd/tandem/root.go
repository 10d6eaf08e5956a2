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
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes a group such as `tandem program` fail on
// an unknown subcommand (`tandem program lst`) instead of printing its help
// and exiting 0, which a script would take for success.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if cmd.HasSubCommands() && !cmd.Runnable() && cmd.HasParent() {
		cmd.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("unknown command %q for %q; see %q", args[0], cmd.CommandPath(), cmd.CommandPath()+" --help")
			}
			return nil
		}
		cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
}
