// Command tandem is Tandem's command line: `tandem dev` runs the whole
// platform on one machine, `tandem token` issues a dev token, and the other
// commands drive a running gateway (docs/cli.md).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zone data for validation, independent of the machine
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		code, msg := exitCode(err)
		fmt.Fprintln(os.Stderr, "tandem:", msg)
		stop()
		os.Exit(code)
	}
}
