/**
 * The seed's producer/consumer with the producer on a worker thread: the same
 * program as seed/producer.ts, but the channel is shared and the producer is a
 * worker task. Prints 0..4.
 */
import { openSharedChannel } from '@gotrio/channels'
import { openNursery, run, workerTask } from '@gotrio/runtime'
import type { numbers } from './workers/tasks.ts'

const producer = workerTask<typeof numbers>(new URL('./workers/tasks.ts', import.meta.url), 'numbers')

await run(() =>
  openNursery(async (nursery) => {
    const [s, r] = openSharedChannel<number>(0)
    nursery.startSoon(producer, s, 5)
    for await (const x of r) console.log(x)
  }),
)
