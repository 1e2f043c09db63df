package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sweep-dev/sweep/results"
)

// paramsText formats a trial's searched values: "learning_rate=0.001 reg=0.25".
func paramsText(ps []results.Param) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + "=" + p.String()
	}
	return strings.Join(parts, " ")
}

// writeLeaderboard writes trials (already ranked) as an aligned table with a
// column per searched parameter; the selected best is marked with *.
func writeLeaderboard(w io.Writer, trials []results.Trial, sw *results.Sweep) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var names []string
	if len(trials) > 0 {
		for _, p := range trials[0].Params {
			names = append(names, p.Name)
		}
	}
	fmt.Fprint(tw, "rank\ttrial\tstatus\tval_acc\tval_loss\ttrain_acc\t")
	for _, n := range names {
		fmt.Fprint(tw, n+"\t")
	}
	fmt.Fprintln(tw, "secs\t")
	for i, t := range trials {
		mark := ""
		if sw.Best != nil && sw.Best.Trial == t.Number {
			mark = "*"
		}
		fmt.Fprintf(tw, "%d\t%s%d\t%s\t", i+1, mark, t.Number, t.Status)
		if t.Status == results.Done {
			fmt.Fprintf(tw, "%.4f\t%.4f\t%.4f\t", t.ValAcc, t.ValLoss, t.TrainAcc)
		} else {
			fmt.Fprint(tw, "-\t-\t-\t")
		}
		for _, p := range t.Params {
			fmt.Fprint(tw, p.String()+"\t")
		}
		fmt.Fprintf(tw, "%.1f\t\n", t.Duration)
	}
	tw.Flush()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
