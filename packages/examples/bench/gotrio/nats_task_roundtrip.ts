/**
 * nats_task_roundtrip in gotrio (gotrio-nats): N sequential `await runInWorker(remoteTask(trivial), i)`
 * served by a host process (`serveWorkerTasks`, one worker), against node/nats_raw.ts doing N
 * sequential core-NATS requests answered by a peer process.
 *
 * usage: nats_task_roundtrip.ts <n>   (the host is this file with --peer URL POOL)
 *
 * Timed in ROUNDTRIP_BATCHES batches, reported as the median batch; checksum "N:sum(i+1)".
 */
import { run, runInWorker } from '@gotrio/runtime'
import { connect, remoteTask, serveWorkerTasks } from '@gotrio/nats'
import { emit, intArg, ROUNDTRIP_BATCHES, timedBatches } from '../lib/program.ts'
import { natsServer, startPeer, stopPeer } from '../lib/nats.ts'

const TRIVIAL = new URL('../node/tasks/trivial.js', import.meta.url)

if (process.argv[2] === '--peer') {
  const [url, pool] = process.argv.slice(3) as [string, string]
  await run(async () => {
    const nc = await connect({ servers: url })
    const host = await serveWorkerTasks(nc, pool, { modules: [TRIVIAL], workers: 1 })
    console.log('ready')
    await new Promise<void>((r) => process.once('SIGTERM', () => r()))
    await host.close()
    await nc.close()
  })
} else {
  const n = intArg(0, 'n')
  const { url, server } = await natsServer()
  const pool = `bench-${process.pid}`
  const peer = await startPeer(import.meta.url, url, pool)
  await run(async () => {
    const nc = await connect({ servers: url })
    const trivial = remoteTask<(i: number) => number>(nc, pool, TRIVIAL, 'trivial')
    const roundtrips = async (from: number, to: number): Promise<number> => {
      let total = 0
      for (let i = from; i < to; i++) total += await runInWorker(trivial, i)
      return total
    }
    await roundtrips(0, Math.max(20, Math.floor(n / 10))) // warm-up (starts the host's pool), untimed
    const { usPerTask, total } = await timedBatches(n, ROUNDTRIP_BATCHES, roundtrips)
    emit({
      benchmark: 'nats_task_roundtrip',
      impl: 'gotrio-nats',
      metric: 'us_per_task',
      value: usPerTask,
      unit: 'us',
      checksum: `${n}:${total}`,
      size: String(n),
    })
    await nc.close()
  })
  await stopPeer(peer)
  await server?.dispose()
}
