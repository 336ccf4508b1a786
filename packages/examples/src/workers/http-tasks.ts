/** The worker task of the http-server example: CPU work that looks at cancellation. */
import { throwIfCancelled } from '@gotrio/runtime'

/** How many primes lie in [lo, hi). Stops with `Cancelled` as soon as its request is cancelled. */
export function countPrimes(lo: number, hi: number): number {
  let n = 0
  for (let i = Math.max(2, lo); i < hi; i++) {
    if ((i & 0x3ff) === 0) throwIfCancelled() // a deadline or a hang-up reaches this loop here
    let prime = true
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false
        break
      }
    }
    if (prime) n++
  }
  return n
}
