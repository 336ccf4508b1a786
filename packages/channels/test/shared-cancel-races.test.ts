/**
 * Cancellation racing a completion on shared channels, made deterministic on
 * one thread: the test cancels at the exact step between the two halves of an
 * operation (observed through `statistics()`), lap after lap.
 */
import { describe, expect, it } from 'vitest'
import { CancelScope, run } from '@gotrio/runtime'
import { macrotask } from '@gotrio/runtime/lowlevel'
import { openSharedChannel } from '../src/index.js'

const LAPS = 50 * Number(process.env.GOTRIO_STRESS ?? 1)
describe('shared channel: cancellation racing a completion', () => {
  // Soak bug 2. A sender waiting behind a full buffer is unregistered under the
  // lock when its value moves into the buffer, and resumed a macrotask later.
  // A cancel in that gap used to withdraw a second time: SEND_WAITING went one
  // short, so the next waiting sender was never woken (a delivered sender
  // parked forever).
  it('a send cancelled after its value entered the buffer, before it resumed, completes; the waiter count stays exact', async () => {
    await run(async () => {
      const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
      for (let lap = 0; lap < LAPS; lap++) {
        tx.sendNowait(2 * lap) // the buffer is full
        const scope = new CancelScope()
        let sent = false
        const sending = scope.run(async () => {
          await tx.send(2 * lap + 1)
          sent = true
        })
        while (rx.statistics().tasksWaitingSend === 0) await macrotask()
        // Runs in the check phase before the sender's deferred wake (queued later).
        const canceller = (async () => {
          while (rx.statistics().tasksWaitingSend !== 0) await macrotask()
          expect(sent).toBe(false) // in the gap: taken, not yet resumed (the case under test)
          scope.cancel()
        })()
        expect(rx.receiveNowait()).toBe(2 * lap)
        await canceller
        await sending
        expect(sent).toBe(true) // too late to cancel: the value was in the buffer
        expect(rx.statistics().tasksWaitingSend).toBe(0)
        expect(rx.receiveNowait()).toBe(2 * lap + 1) // delivered exactly once
        expect(rx.statistics().currentBufferUsed).toBe(0)
      }
      // The counts are exact, so a later waiting sender is still woken.
      tx.sendNowait(-1)
      const late = tx.send(-2)
      expect(await rx.receive()).toBe(-1)
      await late
      expect(rx.receiveNowait()).toBe(-2)
      tx.close()
      rx.close()
    })
  })
})

describe('shared channel, size 0: cancellation racing a take', () => {
  it('a send cancelled after a receiver took its offer, before it resumed, completes; the waiter count stays exact', async () => {
    await run(async () => {
      const [tx, rx] = openSharedChannel<number>(0, { codec: 'int32' })
      for (let lap = 0; lap < LAPS; lap++) {
        const scope = new CancelScope()
        let sent = false
        const sending = scope.run(async () => {
          await tx.send(lap)
          sent = true
        })
        while (rx.statistics().tasksWaitingSend === 0) await macrotask()
        const canceller = (async () => {
          while (rx.statistics().tasksWaitingSend !== 0) await macrotask()
          expect(sent).toBe(false) // in the gap: taken, not yet resumed (the case under test)
          scope.cancel()
        })()
        expect(rx.receiveNowait()).toBe(lap) // takes the waiting sender's offer
        await canceller
        await sending
        expect(sent).toBe(true)
        expect(rx.statistics().tasksWaitingSend).toBe(0)
      }
      const late = tx.send(-1)
      expect(await rx.receive()).toBe(-1)
      await late
      tx.close()
      rx.close()
    })
  })
})
