/**
 * Worker tasks of the parallel examples. Each export runs on a pool thread;
 * channels given as arguments arrive as live endpoints owned by the task.
 */
import type { SharedReceiveChannel, SharedSendChannel } from '@gotrio/channels'

/** The seed's producer, on a worker thread: sends 0..n-1, then closes its end. */
export async function numbers(out: SharedSendChannel<number>, n: number): Promise<void> {
  await using s = out
  for (let i = 0; i < n; i++) await s.send(i)
}

/** The seed's channel producer, on a worker thread: makes `count` channels, each fed by a `numbers` task. */
export async function channels(out: SharedSendChannel<SharedReceiveChannel<number>>, count: number, each: number): Promise<void> {
  const { openSharedChannel } = await import('@gotrio/channels')
  const { openNursery, workerTask } = await import('@gotrio/runtime')
  const numbersTask = workerTask<typeof numbers>(new URL(import.meta.url), 'numbers')
  await using s = out
  await openNursery(async (n) => {
    for (let c = 0; c < count; c++) {
      const [send, receive] = openSharedChannel<number>(0, { codec: 'int32' })
      n.startSoon(numbersTask, send, each)
      await s.send(receive)
    }
  })
}

export function isPrime(n: number): boolean {
  if (n < 2) return false
  if (n % 2 === 0) return n === 2
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false
  return true
}

/** Counts primes in [lo, hi) by trial division. */
export function countPrimes(lo: number, hi: number): number {
  let count = 0
  for (let n = lo; n < hi; n++) if (isPrime(n)) count++
  return count
}

/**
 * A CPU-bound producer: counts the primes of every `stride`-th chunk of
 * `chunk` numbers below `limit`, starting at chunk `first`, and sends each
 * chunk's count. `sendSync` blocks this thread while the consumer is behind:
 * a CPU loop has no reason to yield.
 */
export function primeProducer(out: SharedSendChannel<number>, first: number, stride: number, chunk: number, limit: number): void {
  try {
    for (let lo = first * chunk; lo < limit; lo += stride * chunk) out.sendSync(countPrimes(lo, Math.min(lo + chunk, limit)))
  } finally {
    out.close()
  }
}

/**
 * select-pool's worker (Go's `worker(jobs, results, quit)`): squares jobs until
 * the jobs end or quit is closed, delivering each result unless quit closes
 * first. Returns how many jobs it did.
 */
export async function squarer(
  jobs: SharedReceiveChannel<number>,
  results: SharedSendChannel<number>,
  quit: SharedReceiveChannel<null>,
): Promise<number> {
  const { onReceive, onSend, select } = await import('@gotrio/channels')
  const stop = (): false => false
  let done = 0
  for (;;) {
    // select { case j, ok := <-jobs: ...; case <-quit: return }
    const job = await select(
      onReceive(
        jobs,
        (j) => j,
        () => -1,
      ),
      onReceive(
        quit,
        () => -1,
        () => -1,
      ),
    )
    if (job < 0) return done
    // select { case results <- j * j: ; case <-quit: return }
    if (
      !(await select(
        onSend(results, job * job, () => true),
        onReceive(quit, stop, stop),
      ))
    )
      return done
    done++
  }
}
