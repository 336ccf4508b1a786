// fan_in: 4 producers -> 1 consumer over one buffered channel (1024).
//
// usage: fan_in <n>   (n is rounded down to a multiple of 4)
//
// Producer p sends p*Q+0 .. p*Q+Q-1 (Q = N/4); the last one out closes the
// channel (a WaitGroup, the Go idiom for Trio's clone-and-close).
package main

import (
	"strconv"
	"sync"
	"time"
)

const producers = 4
const buffer = 1024

func consume(q int) *orderCheck {
	check := newOrderCheck(producers, q)
	ch := make(chan int, buffer)
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(base int) {
			defer wg.Done()
			for i := 0; i < q; i++ {
				ch <- base + i
			}
		}(p * q)
	}
	go func() { wg.Wait(); close(ch) }()
	for x := range ch {
		check.see(x)
	}
	return check
}

func main() {
	q := intArg(1, "n") / producers
	if q == 0 {
		fail("n must be at least 4")
	}
	consume(q/10 + 1) // warm-up, untimed
	t0 := time.Now()
	check := consume(q)
	elapsed := time.Since(t0)
	emit("fan_in", "ns_per_item", float64(elapsed.Nanoseconds())/float64(q*producers), "ns", check.checksum(), strconv.Itoa(q*producers))
}
