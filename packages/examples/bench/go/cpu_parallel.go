// cpu_parallel: K goroutines count primes by trial division in disjoint shares
// of [0, K*R) and send their counts to one consumer.
//
// usage: cpu_parallel <K> <range-per-producer> <block> <pairs>
//
// The numbers [0, K*R) are cut into blocks of <block> numbers, dealt
// round-robin: producer k counts blocks k, k+K, k+2K, ... (the same split as
// the gotrio and Python programs). GOMAXPROCS is left at its default (the core
// count). The one-thread baseline (the same K shares in a plain loop) runs in
// the same process just before each parallel run: <pairs> such (baseline,
// parallel) pairs, reported as the median pair's speed-up (baseline / parallel
// time) and the median parallel time, as the gotrio program does.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := 3; d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func countPrimes(lo, hi int) int {
	c := 0
	for n := lo; n < hi; n++ {
		if isPrime(n) {
			c++
		}
	}
	return c
}

// countPrimesInBlocks counts the primes in blocks first, first+step, ... below limit.
func countPrimesInBlocks(first, step, limit, block int) int {
	c := 0
	for lo := first * block; lo < limit; lo += step * block {
		hi := lo + block
		if hi > limit {
			hi = limit
		}
		c += countPrimes(lo, hi)
	}
	return c
}

func parallel(k, r, block int) int {
	counts := make(chan int)
	for i := 0; i < k; i++ {
		go func(first int) { counts <- countPrimesInBlocks(first, k, k*r, block) }(i)
	}
	total := 0
	for i := 0; i < k; i++ {
		total += <-counts
	}
	return total
}

// median of a non-empty slice (the mean of the middle two for an even length).
func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func main() {
	k, r, block, pairs := intArg(1, "K"), intArg(2, "range-per-producer"), intArg(3, "block"), intArg(4, "pairs")
	parallel(k, r/100+1, block) // warm-up, untimed
	var speedups, seconds []float64
	par := 0
	for p := 0; p < pairs; p++ {
		t0 := time.Now()
		seq := 0
		for i := 0; i < k; i++ {
			seq += countPrimesInBlocks(i, k, k*r, block)
		}
		t1 := time.Now()
		par = parallel(k, r, block)
		t2 := time.Now()
		if seq != par {
			fmt.Fprintf(os.Stderr, "one-thread count %d != parallel count %d\n", seq, par)
			os.Exit(1)
		}
		speedups = append(speedups, t1.Sub(t0).Seconds()/t2.Sub(t1).Seconds())
		seconds = append(seconds, t2.Sub(t1).Seconds())
	}
	size := fmt.Sprintf("%dx%d/%d", k, r, block)
	emit("cpu_parallel", "seconds", median(seconds), "s", strconv.Itoa(par), size)
	emit("cpu_parallel", "speedup", median(speedups), "x", strconv.Itoa(par), size)
}
