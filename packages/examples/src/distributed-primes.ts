/**
 * Worker tasks across machines, on NATS JetStream: a caller queues one remote
 * task per chunk of the numbers below `limit`; host processes take them and
 * count the chunk's primes on their own gotrio pools. The caller shows a
 * progress line, how many chunks each host ran, and the speed-up of two hosts
 * over one (the same chunks, the same run).
 *
 *   pnpm example distributed-primes [limit]        # all on this machine: starts a
 *                                                   # nats-server unless NATS_URL is set,
 *                                                   # two host processes, and the caller
 *   NATS_URL=nats://HOST:4222 pnpm example distributed-primes host     # one per machine
 *   NATS_URL=nats://HOST:4222 pnpm example distributed-primes caller [limit]
 *
 * Hosts run `workers` tasks at once (HOST_WORKERS, default 1 here so that
 * "one host" vs "two hosts" is what the speed-up measures on one machine).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { currentTime, openNursery, run, runInWorker } from '@gotrio/runtime'
import { connect, remoteTask, serveWorkerTasks, type NatsConnection } from '@gotrio/nats'
import { startLocalNatsServer } from '@gotrio/nats/testing'
import type { countChunk } from './workers/distributed-tasks.ts'

const POOL = 'distributed-primes'
const TASKS = new URL('./workers/distributed-tasks.ts', import.meta.url)
const role = process.argv[2] === 'host' || process.argv[2] === 'caller' ? process.argv[2] : 'demo'
const limit = Number(process.argv[role === 'demo' ? 2 : 3] ?? 4_000_000)
const chunk = 50_000
const hostWorkers = Number(process.env.HOST_WORKERS ?? 1)

async function serve(url: string): Promise<void> {
  await run(async () => {
    const nc = await connect({ servers: url })
    const host = await serveWorkerTasks(nc, POOL, { modules: [TASKS], workers: hostWorkers })
    console.log(`serving pool ${POOL} on ${url} with ${hostWorkers} worker(s); Ctrl-C to stop`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await host.close()
    await nc.close()
  })
}

/** Queues every chunk as a remote task; returns the total and the chunks each host ran. */
async function countRemotely(nc: NatsConnection, below: number, show: boolean): Promise<{ primes: number; perHost: Map<string, number> }> {
  const task = remoteTask<typeof countChunk>(nc, POOL, TASKS, 'countChunk')
  const chunks = Math.ceil(below / chunk)
  const perHost = new Map<string, number>()
  let primes = 0
  let done = 0
  await openNursery(async (n) => {
    for (let lo = 0; lo < below; lo += chunk) {
      n.startSoon(async () => {
        const r = await runInWorker(task, lo, Math.min(lo + chunk, below))
        primes += r.primes
        perHost.set(r.host, (perHost.get(r.host) ?? 0) + 1)
        done++
        if (show) {
          const line = `  ${String(Math.round((done / chunks) * 100)).padStart(3)}% of ${chunks} chunks, primes so far ${primes}`
          if (process.stdout.isTTY) process.stdout.write(`\r${line}`)
          else if (done === chunks || done % Math.ceil(chunks / 4) === 0) console.log(line)
        }
      })
    }
  })
  if (show && process.stdout.isTTY) process.stdout.write('\n')
  return { primes, perHost }
}

function startHost(url: string, name: string): Promise<ChildProcess> {
  const self = fileURLToPath(import.meta.url)
  const child = spawn(process.execPath, [...process.execArgv, self, 'host'], {
    env: { ...process.env, NATS_URL: url, GOTRIO_HOST_NAME: name },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve(child))
    child.once('exit', (code) => reject(new Error(`host ${name} exited with ${code} before serving`)))
  })
}

async function stopHost(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await gone
}

async function demo(): Promise<void> {
  const local = process.env.NATS_URL ? undefined : await startLocalNatsServer()
  const url = process.env.NATS_URL ?? local!.url
  console.log(`NATS: ${url}${local ? ' (a local nats-server started for this demo)' : ''}; machine: ${availableParallelism()} cores`)
  const hostA = await startHost(url, 'host-A')
  try {
    await run(async () => {
      const nc = await connect({ servers: url })
      await countRemotely(nc, chunk * 4, false) // warm-up: loads the module and compiles the loop in host A
      console.log(`one host, primes below ${limit}:`)
      let t = currentTime()
      const one = await countRemotely(nc, limit, true)
      const tOne = currentTime() - t
      const hostB = await startHost(url, 'host-B')
      try {
        await countRemotely(nc, chunk * 8, false) // warm-up of host B
        console.log(`two hosts, primes below ${limit}:`)
        t = currentTime()
        const two = await countRemotely(nc, limit, true)
        const tTwo = currentTime() - t
        if (one.primes !== two.primes) throw new Error(`checksum mismatch: ${one.primes} with one host, ${two.primes} with two`)
        console.log(`primes below ${limit}: ${two.primes}`)
        console.log(`chunks per host (two hosts): ${[...two.perHost].map(([h, c]) => `${h} ${c}`).join(', ')}`)
        console.log(
          `one host: ${(tOne / 1000).toFixed(2)} s   two hosts: ${(tTwo / 1000).toFixed(2)} s   speed-up: ${(tOne / tTwo).toFixed(2)}x (${availableParallelism()} cores on this machine)`,
        )
      } finally {
        await stopHost(hostB)
      }
      await nc.close()
    })
  } finally {
    await stopHost(hostA)
    await local?.dispose()
  }
}

async function caller(url: string): Promise<void> {
  await run(async () => {
    const nc = await connect({ servers: url })
    const t = currentTime()
    const r = await countRemotely(nc, limit, true)
    console.log(`primes below ${limit}: ${r.primes} in ${((currentTime() - t) / 1000).toFixed(2)} s`)
    console.log(`chunks per host: ${[...r.perHost].map(([h, c]) => `${h} ${c}`).join(', ')}`)
    await nc.close()
  })
}

if (role === 'host') await serve(process.env.NATS_URL ?? 'nats://127.0.0.1:4222')
else if (role === 'caller') await caller(process.env.NATS_URL ?? 'nats://127.0.0.1:4222')
else await demo()
