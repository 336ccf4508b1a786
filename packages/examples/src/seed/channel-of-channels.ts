// The seed's channel of channels: a channel that carries channels. Prints
// 0..4 then `---`, three times.
import { openMemoryChannel, type MemoryReceiveChannel } from '@gotrio/channels'
import { openNursery, run, type Nursery } from '@gotrio/runtime'

async function numberProducer(nursery: Nursery) {
  const [s, r] = openMemoryChannel<number>(0)

  nursery.startSoon(async () => {
    await using send = s
    for (let i = 0; i < 5; i++) await send.send(i)
  })

  return r
}

async function channelProducer(nursery: Nursery) {
  const [s, r] = openMemoryChannel<MemoryReceiveChannel<number>>(0)

  nursery.startSoon(async () => {
    await using send = s
    for (let k = 0; k < 3; k++) {
      const ch = await numberProducer(nursery)
      await send.send(ch)
    }
  })

  return r
}

async function main() {
  await openNursery(async (nursery) => {
    await using chOfCh = await channelProducer(nursery)
    for await (const ch of chOfCh) {
      await using c = ch
      for await (const num of c) console.log(num)
      console.log('---')
    }
  })
}

await run(main)
