// Shared helpers for the Go benchmark programs. Each program is built as
// `go build -o <bin> <program>.go common.go` (no go.mod needed) and prints one
// JSON line per metric on stdout: {"benchmark","impl","metric","value","unit",
// "checksum","size"}. The runner (bench/run.ts) recomputes every checksum.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

type result struct {
	Benchmark string  `json:"benchmark"`
	Impl      string  `json:"impl"`
	Metric    string  `json:"metric"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit"`
	Checksum  string  `json:"checksum"`
	Size      string  `json:"size"`
}

func emit(benchmark, metric string, value float64, unit, checksum, size string) {
	line, err := json.Marshal(result{benchmark, "go", metric, value, unit, checksum, size})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line))
}

func intArg(index int, name string) int {
	if len(os.Args) <= index {
		fail(fmt.Sprintf("missing argument %d <%s>", index, name))
	}
	v, err := strconv.Atoi(os.Args[index])
	if err != nil || v <= 0 {
		fail(fmt.Sprintf("%s must be a positive integer, got %q", name, os.Args[index]))
	}
	return v
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, os.Args[0]+": "+msg)
	os.Exit(2)
}

// orderCheck sums values that producer p sends as base_p+0, base_p+1, ... and
// counts the ones that arrive out of their producer's order. Its checksum is
// "count:sum:bad"; the runner expects "N:N(N-1)/2:0".
type orderCheck struct {
	perProducer int
	next        []int // next[p]: the value producer p should deliver next
	count, bad  int
	total       int64
}

func newOrderCheck(producers, perProducer int) *orderCheck {
	next := make([]int, producers)
	for p := range next {
		next[p] = p * perProducer
	}
	return &orderCheck{perProducer: perProducer, next: next}
}

func (c *orderCheck) see(x int) {
	p := x / c.perProducer
	if p < 0 || p >= len(c.next) || c.next[p] != x {
		c.bad++
	} else {
		c.next[p] = x + 1
	}
	c.count++
	c.total += int64(x)
}

func (c *orderCheck) checksum() string {
	return fmt.Sprintf("%d:%d:%d", c.count, c.total, c.bad)
}
