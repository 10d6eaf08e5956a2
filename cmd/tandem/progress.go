package main

import (
	"fmt"
	"io"
	"strings"
)

// newPercentBar returns a bar for a long operation that reports a
// percentage, such as an import or a match run polled from the API. Draw
// it on standard error: standard output is for tables and JSON.
func newPercentBar(w io.Writer) *progressBar {
	p := newProgressBar(w, 100)
	p.done = -10 // nothing shown yet
	return p
}

// percent shows the operation at percent (0–100) of its work:
// `[######------]  42% what` on one line of a terminal; elsewhere a line
// at every new tenth, so logs stay short.
func (p *progressBar) percent(percent int, what string) {
	percent = min(max(percent, 0), 100)
	if !p.terminal {
		if percent/10 != p.done/10 {
			fmt.Fprintf(p.w, "%3d%% %s\n", percent, what)
		}
		p.done = percent
		return
	}
	p.done = percent
	filled := barWidth * percent / 100
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), percent, what)
}
