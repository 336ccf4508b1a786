/**
 * nats_channel in gotrio (gotrio-nats): values 0..N-1 from a sender process to this process
 * through a NATS channel (`openNatsChannel`, codec 'json', unbounded), against
 * node/nats_raw.ts doing the same publish (with a message id, awaiting the ack) / fetch /
 * confirmed ack with the raw JetStream client.
 *
 * usage: nats_channel.ts <n>          (the sender is this file with --peer URL NAME N)
 *
 * Reports ns per item received, timed after an untimed warm-up; the checksum is
 * "count:sum:bad" (values out of order count as bad).
 */
import { attachNatsChannel, connect, openNatsChannel } from '@gotrio/nats'
import { emit, intArg, nowNs, OrderCheck } from '../lib/program.ts'
import { natsServer, startPeer, stopPeer, warmup } from '../lib/nats.ts'

if (process.argv[2] === '--peer') {
  const [url, name, count] = process.argv.slice(3) as [string, string, string]
  const n = Number(count)
  const nc = await connect({ servers: url })
  const tx = await attachNatsChannel<number>(nc, name, 'send')
  console.log('ready')
  for (let i = 0; i < warmup(n); i++) await tx.send(-1)
  for (let i = 0; i < n; i++) await tx.send(i)
  await tx.aclose()
  await nc.close()
} else {
  const n = intArg(0, 'n')
  const { url, server } = await natsServer()
  const nc = await connect({ servers: url })
  const name = `bench-${process.pid}`
  const [tx, rx] = await openNatsChannel<number>(nc, name, { maxBufferSize: Infinity, codec: 'json' })
  const peer = await startPeer(import.meta.url, url, name, String(n))
  tx.close() // the peer's handle keeps the send side open
  for (let w = warmup(n); w > 0; w--) await rx.receive()
  const check = new OrderCheck(1, n)
  const t0 = nowNs()
  for await (const v of rx) check.see(v)
  const ns = (nowNs() - t0) / n
  emit({
    benchmark: 'nats_channel',
    impl: 'gotrio-nats',
    metric: 'ns_per_item',
    value: ns,
    unit: 'ns',
    checksum: check.checksum(),
    size: String(n),
  })
  await rx.aclose()
  await stopPeer(peer)
  await nc.close()
  await server?.dispose()
}
