// chan_of_chan: the seed's channel of channels, C channels x M items.
//
// usage: chan_of_chan <channels> <items-per-channel>
//
// numberProducer/channelProducer are the seed essay's Go program; channel c
// carries c*M+0 .. c*M+M-1 so the runner can check every item.
package main

import (
	"fmt"
	"time"
)

func numberProducer(base, m int) chan int {
	ch := make(chan int)
	go func() {
		for i := 0; i < m; i++ {
			ch <- base + i
		}
		close(ch)
	}()
	return ch
}

func channelProducer(c, m int) chan chan int {
	ch := make(chan chan int)
	go func() {
		for k := 0; k < c; k++ {
			ch <- numberProducer(k*m, m)
		}
		close(ch)
	}()
	return ch
}

func consume(c, m int) *orderCheck {
	check := newOrderCheck(c, m)
	for ch := range channelProducer(c, m) {
		for num := range ch {
			check.see(num)
		}
	}
	return check
}

func main() {
	c, m := intArg(1, "channels"), intArg(2, "items-per-channel")
	consume(c/10+1, m) // warm-up, untimed
	t0 := time.Now()
	check := consume(c, m)
	elapsed := time.Since(t0)
	emit("chan_of_chan", "ns_per_item", float64(elapsed.Nanoseconds())/float64(c*m), "ns", check.checksum(), fmt.Sprintf("%dx%d", c, m))
}
