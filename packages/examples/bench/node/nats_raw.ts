/**
 * The raw NATS client's baselines for the NATS rows, in the same run as gotrio's:
 *  - nats_channel (nats-raw): a sender process publishes 0..N-1 to a work-queue stream (with a
 *    message id, awaiting each ack); this process fetches in batches of 64 from a durable pull
 *    consumer and confirms each ack (ackAck), as a gotrio receive does.
 *  - nats_task_roundtrip (nats-raw): N sequential core-NATS requests answered by a peer process
 *    with i + 1.
 *
 * usage: nats_raw.ts channel|roundtrip <n>    (peers: this file with --peer ...)
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { emit, intArg, nowNs, OrderCheck, ROUNDTRIP_BATCHES, stringArg, timedBatches } from '../lib/program.ts'
import { natsServer, startPeer, stopPeer, warmup } from '../lib/nats.ts'

const enc = (v: number): string => JSON.stringify(v)

if (process.argv[2] === '--peer') {
  const [kind, url, name, count] = process.argv.slice(3) as [string, string, string, string?]
  const nc = await connect({ servers: url })
  if (kind === 'channel') {
    const js = jetstream(nc)
    const n = Number(count)
    console.log('ready')
    let id = 0
    for (let i = 0; i < warmup(n); i++) await js.publish(`${name}.v`, enc(-1), { msgID: `${id++}` })
    for (let i = 0; i < n; i++) await js.publish(`${name}.v`, enc(i), { msgID: `${id++}` })
    await nc.close()
  } else {
    nc.subscribe(`${name}.echo`, { callback: (_e, m) => void m.respond(enc(Number(m.string()) + 1)) })
    console.log('ready')
    await new Promise<void>((r) => process.once('SIGTERM', () => r()))
    await nc.close()
  }
} else {
  const kind = stringArg(0, 'benchmark', ['channel', 'roundtrip'] as const)
  const n = intArg(1, 'n')
  const { url, server } = await natsServer()
  const nc = await connect({ servers: url })
  const name = `rawbench${process.pid}`
  if (kind === 'channel') {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name, subjects: [`${name}.v`], retention: RetentionPolicy.Workqueue, storage: StorageType.File })
    await jsm.consumers.add(name, { durable_name: 'r', ack_policy: AckPolicy.Explicit })
    const consumer = await jetstream(nc).consumers.get(name, 'r')
    const peer = await startPeer(import.meta.url, 'channel', url, name, String(n))
    const check = new OrderCheck(1, n)
    let skip = warmup(n)
    let t0 = 0
    while (check.count < n) {
      const batch = await consumer.fetch({ max_messages: 64, expires: 1000 })
      for await (const m of batch) {
        await m.ackAck()
        const v = Number(m.string())
        if (skip > 0) {
          if (--skip === 0) t0 = nowNs()
          continue
        }
        check.see(v)
      }
    }
    const ns = (nowNs() - t0) / n
    emit({
      benchmark: 'nats_channel',
      impl: 'nats-raw',
      metric: 'ns_per_item',
      value: ns,
      unit: 'ns',
      checksum: check.checksum(),
      size: String(n),
    })
    await stopPeer(peer)
    await jsm.streams.delete(name)
  } else {
    const peer = await startPeer(import.meta.url, 'roundtrip', url, name)
    const roundtrips = async (from: number, to: number): Promise<number> => {
      let total = 0
      for (let i = from; i < to; i++) total += Number((await nc.request(`${name}.echo`, enc(i))).string())
      return total
    }
    await roundtrips(0, Math.max(20, Math.floor(n / 10)))
    const { usPerTask, total } = await timedBatches(n, ROUNDTRIP_BATCHES, roundtrips)
    emit({
      benchmark: 'nats_task_roundtrip',
      impl: 'nats-raw',
      metric: 'us_per_task',
      value: usPerTask,
      unit: 'us',
      checksum: `${n}:${total}`,
      size: String(n),
    })
    await stopPeer(peer)
  }
  await nc.close()
  await server?.dispose()
}
