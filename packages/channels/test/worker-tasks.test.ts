/**
 * Shared channels with worker tasks, as users write them (issue 4): endpoints
 * moved into tasks arrive live; a task that ends, throws, is cancelled or whose
 * thread dies closes what it owns so peers see EndOfChannel /
 * BrokenResourceError instead of hanging; waiting tasks share threads
 * (Go's daisy chain); cancellation reaches a task blocked on a channel.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { BrokenResourceError, openSharedChannel, type SharedReceiveChannel, type SharedSendChannel } from '@gotrio/channels'
import { Cancelled, openNursery, run, runInWorker, workerTask } from '@gotrio/runtime'
import type * as T from './fixtures/worker-channel-tasks.js'

const fx = new URL('./fixtures/worker-channel-tasks.ts', import.meta.url)
const whisper = workerTask<typeof T.whisper>(fx, 'whisper')
const sendAndForget = workerTask<typeof T.sendAndForget>(fx, 'sendAndForget')
const sendThenThrow = workerTask<typeof T.sendThenThrow>(fx, 'sendThenThrow')
const sendThenExit = workerTask<typeof T.sendThenExit>(fx, 'sendThenExit')
const receiveForever = workerTask<typeof T.receiveForever>(fx, 'receiveForever')
const holdReceiver = workerTask<typeof T.holdReceiver>(fx, 'holdReceiver')
const receiveSyncForever = workerTask<typeof T.receiveSyncForever>(fx, 'receiveSyncForever')

/** Drains a receiver until EndOfChannel, returning what arrived. */
async function drain(r: SharedReceiveChannel<number>): Promise<number[]> {
  const got: number[] = []
  for await (const v of r) got.push(v)
  return got
}

describe('worker tasks and shared channels', () => {
  const N = Number(process.env.GOTRIO_DAISY ?? 10_000)

  it(`Go's daisy chain: ${N} worker tasks on 2 threads pass a value along ${N} channels`, async () => {
    const result = await run(
      () =>
        openNursery(async (n) => {
          const [leftmostSend, leftmost] = openSharedChannel<number>(0, { codec: 'int32' })
          let left: SharedSendChannel<number> = leftmostSend
          for (let i = 0; i < N; i++) {
            const [s, r] = openSharedChannel<number>(0, { codec: 'int32' })
            n.startSoon(whisper, left, r)
            left = s
          }
          await left.send(1)
          left.close()
          return leftmost.receive()
        }),
      { workers: 2 },
    )
    expect(result).toBe(N + 1)
  }, 300_000)

  it('a task that throws: the receiver sees EndOfChannel, the nursery gets the error', async () => {
    let got: number[] = []
    const err = await run(
      () =>
        openNursery(async (n) => {
          const [s, r] = openSharedChannel<number>(4, { codec: 'int32' })
          n.startSoon(sendThenThrow, s, 3)
          got = await drain(r)
        }).catch((e: unknown) => e),
      { workers: 1 },
    )
    expect(got).toEqual([0, 1, 2])
    expect((err as AggregateError).errors.map((e) => (e as Error).message)).toEqual(['producer failed after sending'])
  })

  it('a thread that dies while a task holds an endpoint: its handles are closed and the receiver sees EndOfChannel', async () => {
    const { got, err } = await run(
      async () => {
        const [s, r] = openSharedChannel<number>(8, { codec: 'int32' })
        let err: unknown
        let got: number[] = []
        await openNursery(async (n) => {
          // The task's failure is caught here so that it does not cancel the drain below.
          n.startSoon(async () => {
            err = await runInWorker(sendThenExit, s, 5).catch((e: unknown) => e)
          })
          got = await drain(r)
        })
        return { got, err }
      },
      { workers: 1 },
    )
    expect(got).toEqual([0, 1, 2, 3, 4])
    expect((err as Error).message).toMatch(/worker task sendThenExit failed because its worker thread \d+ died: .*code: 7/)
  })

  it('a cancelled task closes its receiver: a sender on the main thread gets BrokenResourceError', async () => {
    const err = await run(
      async () => {
        const [s, r] = openSharedChannel<number>(0, { codec: 'int32' })
        await openNursery(async (n) => {
          await n.start(holdReceiver, r)
          n.cancelScope.cancel()
        })
        return s.send(1).catch((e: unknown) => e)
      },
      { workers: 1 },
    )
    expect(err).toBeInstanceOf(BrokenResourceError)
  })

  it('cancelling the nursery wakes a worker task waiting in receive() with Cancelled (cooperatively, no termination)', async () => {
    const terminated: string[] = []
    const onWarning = (w: Error & { code?: string }): void => void (w.code === 'GOTRIO_WORKER_TERMINATED' && terminated.push(w.message))
    process.on('warning', onWarning)
    onTestFinished(() => void process.off('warning', onWarning))
    const { caught, tid } = await run(
      async () => {
        const [s, r] = openSharedChannel<number>(0, { codec: 'int32' })
        let tid = 0
        let caught: unknown
        // With a 60 s grace period, this nursery only ends promptly if the
        // worker's receive() was woken by the cancellation (no termination).
        await openNursery(async (n) => {
          tid = await n.start(receiveForever, r)
          n.cancelScope.cancel()
        })
        // The sender still works: the receiver was closed when the task ended.
        caught = await s.send(1).catch((e: unknown) => e)
        return { caught, tid }
      },
      { workers: 1, cancelGraceMs: 60_000 },
    )
    expect(terminated).toEqual([])
    expect(tid).toBeGreaterThan(0)
    expect(caught).toBeInstanceOf(BrokenResourceError)
  })

  it('a task blocked in receiveSync (its event loop stopped) is cancelled through the shared flag', async () => {
    const err = await run(
      async () => {
        const [s, r] = openSharedChannel<number>(0, { codec: 'int32' })
        const ready = new SharedArrayBuffer(4)
        let e: unknown
        await openNursery(async (n) => {
          n.startSoon(async () => {
            e = await runInWorker(receiveSyncForever, r, ready).catch((x: unknown) => x)
          })
          const flag = new Int32Array(ready)
          while (Atomics.load(flag, 0) === 0) {
            const w = Atomics.waitAsync(flag, 0, 0)
            if (w.async) await w.value
          }
          n.cancelScope.cancel()
        })
        s.close()
        return e
      },
      { workers: 1, cancelGraceMs: 60_000 },
    )
    expect(err).toBeInstanceOf(Cancelled)
  })

  it('values sent before EndOfChannel are all delivered across many producer tasks (exact total)', async () => {
    const producers = 8
    const each = Number(process.env.GOTRIO_STRESS_ITEMS ?? 2_000)
    const got = await run(
      () =>
        openNursery(async (n) => {
          const [s, r] = openSharedChannel<number>(16, { codec: 'int32' })
          for (let p = 0; p < producers; p++) n.startSoon(sendAndForget, s.clone(), each)
          s.close()
          return drain(r)
        }),
      { workers: 2 },
    )
    expect(got).toHaveLength(producers * each)
    expect(got.reduce((a, b) => a + b, 0)).toBe((producers * each * (each - 1)) / 2)
  })
})
