/** The worker tasks of the README's pipeline (readme-pipeline.ts). */
import { throwIfCancelled } from '@gotrio/runtime'
import type { SharedReceiveChannel, SharedSendChannel } from '@gotrio/channels'

/** Stage 1: the numbers lo..hi-1. */
export async function numbers(out: SharedSendChannel<number>, lo: number, hi: number): Promise<void> {
  await using tx = out // closed at the end of the block, however the task ends
  for (let n = lo; n < hi; n++) await tx.send(n)
}

/** Stage 2: the primes among them (CPU work that meets the deadline through throwIfCancelled). */
export async function primes(input: SharedReceiveChannel<number>, out: SharedSendChannel<number>): Promise<void> {
  await using rx = input
  await using tx = out
  for await (const n of rx) {
    throwIfCancelled()
    if (isPrime(n)) await tx.send(n)
  }
}

function isPrime(n: number): boolean {
  if (n < 2) return false
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false
  return true
}
