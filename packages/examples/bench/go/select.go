// select: one consumer selects over two buffered channels (1024) that two
// producers keep full, so most selects find both cases ready. Reports ns per
// select (= per value).
//
// usage: select <n>   (n is rounded down to a multiple of 2)
//
// Producer p sends p*Q+0 .. p*Q+Q-1 (Q = N/2) on its own channel.
package main

import (
	"strconv"
	"time"
)

const selectProducers = 2
const selectBuffer = 1024

func consumeSelect(q int) *orderCheck {
	check := newOrderCheck(selectProducers, q)
	a := make(chan int, selectBuffer)
	b := make(chan int, selectBuffer)
	for p, ch := range []chan int{a, b} {
		go func(base int, ch chan int) {
			for i := 0; i < q; i++ {
				ch <- base + i
			}
		}(p*q, ch)
	}
	for i := 0; i < selectProducers*q; i++ {
		select {
		case x := <-a:
			check.see(x)
		case x := <-b:
			check.see(x)
		}
	}
	return check
}

func main() {
	q := intArg(1, "n") / selectProducers
	if q == 0 {
		fail("n must be at least 2")
	}
	consumeSelect(q/10 + 1) // warm-up, untimed
	t0 := time.Now()
	check := consumeSelect(q)
	elapsed := time.Since(t0)
	emit("select", "ns_per_item", float64(elapsed.Nanoseconds())/float64(q*selectProducers), "ns", check.checksum(), strconv.Itoa(q*selectProducers))
}
