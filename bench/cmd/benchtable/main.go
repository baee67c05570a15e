// Command benchtable reads `go test -bench` output of ./bench/ on standard
// input and prints the table of pact against raft and the floor, with the
// ratios and the goals, as Markdown (`make bench` runs it):
//
//	go test -run '^$' -bench . ./bench/ | tee bench.out
//	go run ./bench/cmd/benchtable < bench.out
//
// With -echo it copies its input to standard output first, to be used as
// the one filter of a pipe.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/seed44533760/pact/internal/benchtable"
)

func main() {
	echo := flag.Bool("echo", false, "copy the input to standard output as it is read")
	flag.Parse()
	var out io.Writer
	if *echo {
		out = os.Stdout
	}
	res, err := benchtable.Parse(os.Stdin, out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if !benchtable.Write(os.Stdout, res) {
		fmt.Println("benchtable: no results of the benchmarks in ./bench/ in the input")
		return
	}
	// The figures depend on what else ran: say so beside them.
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("\nload average at the end (1, 5, 15 min; %d CPUs): %s", runtime.NumCPU(), la)
	}
}
