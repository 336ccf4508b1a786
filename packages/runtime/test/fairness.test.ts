/**
 * Fairness: tasks that only ever wait on each other run entirely in
 * microtasks, which would starve timers (deadlines), I/O and other threads.
 * Blocking primitives call `yieldDue()` and, when it says so, yield one
 * macrotask (context.ts). This checks the mechanism with a minimal rendezvous
 * built on the lowlevel API, the way @gotrio/channels uses it.
 */
import { expect, test } from 'vitest'
import { CancelScope, moveOnAfter, openNursery } from '@gotrio/runtime'
import { Parked, checkCancelled, current, macrotask, park, yieldDue } from '@gotrio/runtime/lowlevel'

class Op<T> extends Parked<T> {
  readonly waitsOn: string
  readonly value: T | undefined
  private readonly withdraw: () => void
  constructor(waitsOn: string, value: T | undefined, withdraw: () => void) {
    super()
    this.waitsOn = waitsOn
    this.value = value
    this.withdraw = withdraw
  }
  abort(): boolean {
    this.withdraw()
    return true
  }
}

/** A one-value rendezvous: `send` waits for a receiver and vice versa. */
class Rendezvous<T> {
  /** At most one of the two is set. */
  private sender: Op<void> | undefined
  private receiver: Op<T> | undefined

  async send(value: T): Promise<void> {
    const ctx = current()
    checkCancelled(ctx)
    if (yieldDue()) {
      await macrotask()
      checkCancelled(ctx)
    }
    const r = this.receiver
    if (r) {
      this.receiver = undefined
      r.wake(value)
      return
    }
    const op: Op<void> = new Op('Rendezvous.send', value as never, () => (this.sender = undefined))
    this.sender = op
    return park(op, ctx)
  }

  async receive(): Promise<T> {
    const ctx = current()
    checkCancelled(ctx)
    if (yieldDue()) {
      await macrotask()
      checkCancelled(ctx)
    }
    const s = this.sender
    if (s) {
      this.sender = undefined
      const v = (s as unknown as Op<T>).value as T
      s.wake()
      return v
    }
    const op = new Op<T>('Rendezvous.receive', undefined, () => (this.receiver = undefined))
    this.receiver = op
    return park(op, ctx)
  }
}

const LIMIT = 2_000_000 // a safety net: without yielding, the pair would run this many exchanges (seconds) and fail

test('a producer/consumer pair that never blocks on anything else still lets a moveOnAfter deadline fire', async () => {
  const channel = new Rendezvous<number>()
  let sent = 0
  let received = 0
  let scope: CancelScope | undefined
  await moveOnAfter(5, async (s) => {
    scope = s
    await openNursery(async (n) => {
      n.startSoon(async function producer() {
        while (sent < LIMIT) await channel.send(sent++)
      })
      n.startSoon(async function consumer() {
        while (received < LIMIT) {
          const v = await channel.receive()
          expect(v).toBe(received)
          received++
        }
      })
    })
  })
  expect(scope!.cancelledCaught).toBe(true)
  expect(received).toBeGreaterThan(0)
  expect(received).toBeLessThan(LIMIT)
})

test('yieldDue says yes only after many operations in one event-loop turn, and resets each turn', async () => {
  await macrotask()
  let first = -1
  for (let i = 0; i < 100_000; i++) {
    if (yieldDue()) {
      first = i
      break
    }
  }
  expect(first).toBeGreaterThan(0)
  await macrotask()
  expect(yieldDue()).toBe(false)
})
