/**
 * A deadline inside a worker task around a call that blocks its thread
 * (`receiveSync`, `sendSync`, `receiveManySync`, `selectSync`, a shared
 * event's `waitSync`, a shared lock's `acquireSync`): the deadline's timer
 * cannot fire while the thread is blocked, so the call itself must notice the
 * passed deadline (as a checkpoint does) and raise `Cancelled`, which the
 * scope catches. Each case then checks the primitive is unchanged: a
 * cancelled call had no effect. Before the fix every case hung forever.
 */
import { describe, expect, it } from 'vitest'
import { run, runInWorker, workerTask } from '@gotrio/runtime'
import { WouldBlock, openSharedChannel, openSharedEvent, openSharedLock } from '../src/index.ts'
import type * as T from './fixtures/sync-deadline-tasks.ts'

const fx = new URL('./fixtures/sync-deadline-tasks.ts', import.meta.url)
const receiveSyncTimesOut = workerTask<typeof T.receiveSyncTimesOut>(fx, 'receiveSyncTimesOut')
const sendSyncTimesOut = workerTask<typeof T.sendSyncTimesOut>(fx, 'sendSyncTimesOut')
const receiveManySyncTimesOut = workerTask<typeof T.receiveManySyncTimesOut>(fx, 'receiveManySyncTimesOut')
const selectSyncTimesOut = workerTask<typeof T.selectSyncTimesOut>(fx, 'selectSyncTimesOut')
const eventWaitSyncTimesOut = workerTask<typeof T.eventWaitSyncTimesOut>(fx, 'eventWaitSyncTimesOut')
const lockAcquireSyncTimesOut = workerTask<typeof T.lockAcquireSyncTimesOut>(fx, 'lockAcquireSyncTimesOut')

describe('a deadline inside a worker task around a blocking call', () => {
  for (const capacity of [0, 1]) {
    it(`receiveSync, capacity ${capacity}: moves on, and nothing is taken afterwards`, async () => {
      const r = await run(async () => {
        const [tx, rx] = openSharedChannel<number>(capacity, { codec: 'int32' })
        const outcome = await runInWorker(receiveSyncTimesOut, rx.clone())
        const stats = rx.statistics()
        if (capacity > 0) tx.sendNowait(7) // the withdrawn receiver took nothing: the value stays for us
        const got = capacity > 0 ? rx.receiveNowait() : undefined
        tx.close()
        rx.close()
        return { outcome, waiting: stats.tasksWaitingReceive, got }
      })
      expect(r).toEqual({ outcome: 'moved on', waiting: 0, got: capacity > 0 ? 7 : undefined })
    })

    it(`sendSync, capacity ${capacity}: moves on, and the value was not delivered`, async () => {
      const r = await run(async () => {
        const [tx, rx] = openSharedChannel<number>(capacity, { codec: 'int32' })
        if (capacity > 0) tx.sendNowait(1) // full: the worker's send must wait
        const outcome = await runInWorker(sendSyncTimesOut, tx.clone(), 2)
        const values: number[] = []
        for (;;) {
          try {
            values.push(rx.receiveNowait())
          } catch (e) {
            if (e instanceof WouldBlock) break
            throw e
          }
        }
        const stats = rx.statistics()
        tx.close()
        rx.close()
        return { outcome, values, waiting: stats.tasksWaitingSend }
      })
      expect(r).toEqual({ outcome: 'moved on', values: capacity > 0 ? [1] : [], waiting: 0 })
    })
  }

  it('receiveManySync: moves on', async () => {
    const r = await run(async () => {
      const [tx, rx] = openSharedChannel<number>(4, { codec: 'int32' })
      const outcome = await runInWorker(receiveManySyncTimesOut, rx.clone())
      tx.sendNowait(3)
      const got = rx.receiveManyNowait(8)
      tx.close()
      rx.close()
      return { outcome, got }
    })
    expect(r).toEqual({ outcome: 'moved on', got: [3] })
  })

  it('selectSync: moves on, and no case committed', async () => {
    const r = await run(async () => {
      const [ta, ra] = openSharedChannel<number>(1, { codec: 'int32' })
      const [tb, rb] = openSharedChannel<number>(0, { codec: 'int32' })
      const outcome = await runInWorker(selectSyncTimesOut, ra.clone(), rb.clone())
      ta.sendNowait(5)
      const got = ra.receiveNowait()
      const waiting = ra.statistics().tasksWaitingReceive + rb.statistics().tasksWaitingReceive
      for (const h of [ta, ra, tb, rb]) h.close()
      return { outcome, got, waiting }
    })
    expect(r).toEqual({ outcome: 'moved on', got: 5, waiting: 0 })
  })

  it("a shared event's waitSync: moves on", async () => {
    const r = await run(async () => {
      const ev = openSharedEvent()
      const outcome = await runInWorker(eventWaitSyncTimesOut, ev.clone())
      const set = ev.isSet()
      ev.close()
      return { outcome, set }
    })
    expect(r).toEqual({ outcome: 'moved on', set: false })
  })

  it("a shared lock's acquireSync: moves on without the lock", async () => {
    const r = await run(async () => {
      const lock = openSharedLock()
      await lock.acquire() // held by this task: the worker's acquireSync must wait
      const outcome = await runInWorker(lockAcquireSyncTimesOut, lock.clone())
      lock.release()
      const free = lock.statistics().locked === false
      lock.acquireNowait() // the worker did not get it (and was not left in line)
      lock.release()
      lock.close()
      return { outcome, free }
    })
    expect(r).toEqual({ outcome: 'moved on', free: true })
  })
})
