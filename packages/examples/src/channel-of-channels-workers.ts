/**
 * The seed's channel of channels with every producer on a worker thread:
 * channels are made in a worker, sent through a shared channel to the main
 * thread, and each is fed by its own worker task. Prints 3 × (0..4, ---).
 */
import { openSharedChannel, type SharedReceiveChannel } from '@gotrio/channels'
import { openNursery, run, workerTask } from '@gotrio/runtime'
import type { channels } from './workers/tasks.ts'

const channelProducer = workerTask<typeof channels>(new URL('./workers/tasks.ts', import.meta.url), 'channels')

await run(() =>
  openNursery(async (nursery) => {
    const [s, chOfCh] = openSharedChannel<SharedReceiveChannel<number>>(0)
    nursery.startSoon(channelProducer, s, 3, 5)
    for await (const ch of chOfCh) {
      for await (const num of ch) console.log(num)
      console.log('---')
    }
  }),
)
