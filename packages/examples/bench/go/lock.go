// lock: ns per sync.Mutex Lock + Unlock.
//
// usage: lock <uncontended|contended> <n>
//
//	uncontended -> lock_uncontended/go: one goroutine, n Lock/Unlock
//	contended   -> lock_contended/go: two goroutines, n/2 each (GOMAXPROCS = cores)
//
// Each acquisition increments a counter; the checksum is "n:n".
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func measure(contended bool, n int) (time.Duration, int) {
	var mu sync.Mutex
	counter := 0
	t0 := time.Now()
	if !contended {
		for i := 0; i < n; i++ {
			mu.Lock()
			counter++
			mu.Unlock()
		}
		return time.Since(t0), counter
	}
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/2; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return time.Since(t0), counter
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "uncontended" && os.Args[1] != "contended") {
		fail("first argument must be uncontended or contended")
	}
	contended := os.Args[1] == "contended"
	n := intArg(2, "n")
	if n%2 == 1 {
		n++
	}
	measure(contended, n/20*2+2) // warm-up, untimed
	elapsed, total := measure(contended, n)
	benchmark := "lock_uncontended"
	if contended {
		benchmark = "lock_contended"
	}
	check := -1
	if total == n {
		check = n
	}
	emit(benchmark, "ns_per_item", float64(elapsed.Nanoseconds())/float64(n), "ns", fmt.Sprintf("%d:%d", total, check), strconv.Itoa(n))
}
