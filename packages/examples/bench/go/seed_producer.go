// seed_producer_{unbuffered,buffered}: the seed's producer -> consumer, N ints.
//
// usage: seed_producer <buffer> <n>   (buffer 0 = unbuffered, 1024 = buffered)
//
// producer() is the seed essay's Go program with println replaced by a sum.
package main

import (
	"os"
	"strconv"
	"time"
)

func producer(n, buffer int) chan int {
	ch := make(chan int, buffer)
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	return ch
}

func consume(n, buffer int) *orderCheck {
	check := newOrderCheck(1, n)
	for x := range producer(n, buffer) {
		check.see(x)
	}
	return check
}

func main() {
	buffer, err := strconv.Atoi(os.Args[1])
	if err != nil || buffer < 0 {
		fail("usage: seed_producer <buffer> <n>")
	}
	n := intArg(2, "n")
	consume(n/10+1, buffer) // warm-up, untimed
	t0 := time.Now()
	check := consume(n, buffer)
	elapsed := time.Since(t0)
	name := "seed_producer_buffered"
	if buffer == 0 {
		name = "seed_producer_unbuffered"
	}
	emit(name, "ns_per_item", float64(elapsed.Nanoseconds())/float64(n), "ns", check.checksum(), strconv.Itoa(n))
}
