/**
 * The README's pipeline and timeout idioms, as a user writes them:
 * `pnpm example readme-pipeline [hi] [ms]`. Two stages on worker threads, the
 * last on the main thread, the whole pipeline under one deadline.
 */
import { openSharedChannel } from '@gotrio/channels'
import { TooSlowError, failAfter, openNursery, run, workerTask } from '@gotrio/runtime'
import type * as Tasks from './workers/pipeline-tasks.ts'

const tasks = new URL('./workers/pipeline-tasks.ts', import.meta.url)
const numbers = workerTask<typeof Tasks.numbers>(tasks, 'numbers')
const primes = workerTask<typeof Tasks.primes>(tasks, 'primes')

const hi = Number(process.argv[2] ?? 100_000)
const ms = Number(process.argv[3] ?? 30_000)

try {
  const count = await run(() =>
    failAfter(ms, () =>
      openNursery(async (nursery) => {
        const [toPrimes, fromNumbers] = openSharedChannel<number>(256, { codec: 'int32' })
        const [toMain, fromPrimes] = openSharedChannel<number>(256, { codec: 'int32' })
        nursery.startSoon(numbers, toPrimes, 0, hi) // each endpoint moves into its worker
        nursery.startSoon(primes, fromNumbers, toMain)
        let count = 0
        for await (const _ of fromPrimes) count++ // ends when the primes stage closes its sender
        return count
      }),
    ),
  )
  console.log(`${count} primes below ${hi}`)
} catch (e) {
  if (!(e instanceof TooSlowError)) throw e
  console.log(`not done within ${ms} ms`)
}
