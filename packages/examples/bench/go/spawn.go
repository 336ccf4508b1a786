// spawn: start and join N trivial goroutines with a WaitGroup.
//
// usage: spawn <n>
//
// Goroutine i adds i to a shared total under the same mutex it counts with;
// the checksum is "N:sum".
package main

import (
	"fmt"
	"strconv"
	"sync"
	"time"
)

func runTasks(n int) string {
	var wg sync.WaitGroup
	var mu sync.Mutex
	count, total := 0, int64(0)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mu.Lock()
			count++
			total += int64(i)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	return fmt.Sprintf("%d:%d", count, total)
}

func main() {
	n := intArg(1, "n")
	runTasks(n/10 + 1) // warm-up, untimed
	t0 := time.Now()
	checksum := runTasks(n)
	elapsed := time.Since(t0)
	emit("spawn", "ns_per_task", float64(elapsed.Nanoseconds())/float64(n), "ns", checksum, strconv.Itoa(n))
}
