// The seed's producer/consumer (Go: `ch := make(chan int)` + `go func`; Trio:
// `open_memory_channel(0)` + `nursery.start_soon`). Prints 0..4, one per line.
import { openMemoryChannel } from '@gotrio/channels'
import { openNursery, run, type Nursery } from '@gotrio/runtime'

async function producer(nursery: Nursery) {
  const [s, r] = openMemoryChannel<number>(0)

  nursery.startSoon(async () => {
    await using send = s // closing the sender ends the consumer's loop, like Go's close(ch)
    for (let i = 0; i < 5; i++) await send.send(i)
  })

  return r
}

async function main() {
  await openNursery(async (nursery) => {
    await using r = await producer(nursery)
    for await (const x of r) console.log(x)
  })
}

await run(main)
