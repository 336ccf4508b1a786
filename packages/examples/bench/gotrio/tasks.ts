/**
 * Worker tasks of the gotrio benchmark programs: each runs on the runtime's Piscina pool,
 * named with `workerTask(new URL('./tasks.ts', import.meta.url), '<export>')`.
 *
 * Every task closes the send endpoint it was handed when it finishes (Trio's `async with s`);
 * the runtime would also do it when the task ends, per API.md.
 */
import { EndOfChannel } from '@gotrio/channels'
import { OrderCheck, countPrimesInBlocks, nowNs } from '../lib/program.ts'
import type { SharedReceiveChannel, SharedSendChannel } from './api.ts'

/** The seed's number producer, as a worker task: sends base+0 .. base+n-1. */
export async function produce(s: SharedSendChannel<number>, base: number, n: number): Promise<void> {
  await using tx = s
  for (let i = 0; i < n; i++) await tx.send(base + i)
}

type Item = number | { seq: number; tag: string }

/**
 * shared_*_throughput's producer when it owns its thread: `sendSync` blocks the thread (with
 * Atomics.wait) while the ring is full. Sends 0..n-1, or { seq: i, tag: 'item' } if structured.
 */
export function pumpSync(s: SharedSendChannel<Item>, n: number, structured: boolean): void {
  try {
    if (structured) for (let i = 0; i < n; i++) s.sendSync({ seq: i, tag: 'item' })
    else for (let i = 0; i < n; i++) s.sendSync(i)
  } finally {
    s.close()
  }
}

/**
 * shared_*_throughput's worker -> worker consumer: `receiveSync` until EndOfChannel, no
 * promises anywhere. Timed inside this thread from the first value to the end (so the other
 * thread's start is not counted): returns [the order check's checksum, ns for the values after the first].
 */
export function drainSync(r: SharedReceiveChannel<Item>, n: number): [string, number] {
  const check = new OrderCheck(1, n)
  let t0 = 0
  try {
    for (;;) {
      let v: Item
      try {
        v = r.receiveSync()
      } catch (e) {
        if (e instanceof EndOfChannel) break
        throw e
      }
      if (check.count === 0) t0 = nowNs()
      check.see(typeof v === 'number' ? v : v.seq)
    }
  } finally {
    r.close()
  }
  return [check.checksum(), nowNs() - t0]
}

/** As `pumpSync`, awaiting `send` (the thread stays free for other tasks while the ring is full). */
export async function pumpAsync(s: SharedSendChannel<Item>, n: number, structured: boolean): Promise<void> {
  await using tx = s
  if (structured) for (let i = 0; i < n; i++) await tx.send({ seq: i, tag: 'item' })
  else for (let i = 0; i < n; i++) await tx.send(i)
}

/** cpu_parallel's producer k of K: counts the primes in its blocks below `limit` and sends the count. */
export async function countAndSend(s: SharedSendChannel<number>, k: number, K: number, limit: number, block: number): Promise<void> {
  await using tx = s
  await tx.send(countPrimesInBlocks(k, K, limit, block))
}
