// cpu_parallel: K goroutines count primes by trial division in disjoint ranges
// and send their counts to one consumer.
//
// usage: cpu_parallel <K> <range-per-producer>
//
// Producer k counts the primes in [k*R, (k+1)*R). GOMAXPROCS is left at its
// default (the core count). The one-thread baseline (the same K ranges in a
// plain loop) runs in the same process; speed-up = baseline / parallel time.
package main

import (
	"fmt"
	"os"
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

func parallel(k, r int) int {
	counts := make(chan int)
	for i := 0; i < k; i++ {
		go func(lo, hi int) { counts <- countPrimes(lo, hi) }(i*r, (i+1)*r)
	}
	total := 0
	for i := 0; i < k; i++ {
		total += <-counts
	}
	return total
}

func main() {
	k, r := intArg(1, "K"), intArg(2, "range-per-producer")
	parallel(k, r/100+1) // warm-up, untimed
	t0 := time.Now()
	seq := 0
	for i := 0; i < k; i++ {
		seq += countPrimes(i*r, (i+1)*r)
	}
	t1 := time.Now()
	par := parallel(k, r)
	t2 := time.Now()
	if seq != par {
		fmt.Fprintf(os.Stderr, "one-thread count %d != parallel count %d\n", seq, par)
		os.Exit(1)
	}
	seqS, parS := t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds()
	size := fmt.Sprintf("%dx%d", k, r)
	emit("cpu_parallel", "seconds", parS, "s", strconv.Itoa(par), size)
	emit("cpu_parallel", "speedup", seqS/parS, "x", strconv.Itoa(par), size)
}
