/**
 * The lowlevel parking protocol (status.ts, context.ts) that blocking
 * primitives are built on, ported from Trio's test_run.py where it applies.
 */
import { expect, test } from 'vitest'
import { CancelScope, Cancelled, openNursery } from '@gotrio/runtime'
import { Parked, checkCancelled, current, park, waitAllTasksBlocked, waitingTasks } from '@gotrio/runtime/lowlevel'
import { rejection } from './helpers.js'

class TestOp<T> extends Parked<T> {
  aborts = 0
  readonly waitsOn: string
  private readonly agree: boolean
  constructor(waitsOn: string, agree: boolean) {
    super()
    this.waitsOn = waitsOn
    this.agree = agree
  }
  abort(): boolean {
    this.aborts++
    return this.agree
  }
}

test('an operation that refuses to abort is woken by its owner, and the next checkpoint raises (Trio test_failed_abort)', async () => {
  const record: string[] = []
  const op = new TestOp<number>('stubborn', false)
  let scope: CancelScope | undefined
  await openNursery(async (n) => {
    n.startSoon(async function stubbornSleeper() {
      scope = new CancelScope()
      await scope.run(async () => {
        record.push('sleep')
        const x = await park(op)
        expect(x).toBe(1)
        record.push('woke')
        try {
          checkCancelled()
        } catch (e) {
          if (e instanceof Cancelled) record.push('cancelled')
          throw e
        }
      })
    })
    await waitAllTasksBlocked()
    expect(record).toEqual(['sleep'])
    scope!.cancel()
    await waitAllTasksBlocked()
    expect(record).toEqual(['sleep']) // cancel did not wake it
    expect(op.aborts).toBe(1)
    expect(op.wake(1)).toBe(true) // wake it by hand
  })
  expect(record).toEqual(['sleep', 'woke', 'cancelled'])
  expect(scope!.cancelledCaught).toBe(true)
})

test('abort is called at most once, even when several enclosing scopes are cancelled (Trio test_slow_abort_edge_cases)', async () => {
  const op = new TestOp<void>('slow', false)
  const outer1 = new CancelScope()
  const outer2 = new CancelScope()
  await outer1.run(() =>
    outer2.run(async () => {
      await openNursery(async (n) => {
        n.startSoon(() => park(op))
        await waitAllTasksBlocked()
        outer1.cancel()
        outer2.cancel()
        expect(op.aborts).toBe(1)
        op.wake()
      })
    }),
  )
  // The owner woke it normally and nothing checkpointed afterwards: no Cancelled was raised.
  expect(op.aborts).toBe(1)
  expect(outer1.cancelledCaught).toBe(false)
})

test('park in a cancelled scope rejects at once with Cancelled; a woken operation cannot be woken again', async () => {
  const scope = new CancelScope()
  scope.cancel()
  const op = new TestOp<void>('op', true)
  await scope.run(async () => {
    expect(await rejection(park(op))).toBeInstanceOf(Cancelled)
  })
  expect(op.settled).toBe(true)
  expect(op.wake()).toBe(false)
  expect(op.fail(new Error('late'))).toBe(false)
})

test('a parked operation is listed with its task until it is woken', async () => {
  const op = new TestOp<string>('TestOp.wait', true)
  await openNursery(async (n) => {
    let got = ''
    n.startSoon(async function waiter() {
      got = await park(op)
    })
    await waitAllTasksBlocked()
    expect(waitingTasks(current().status.parent ?? current().status)).toContainEqual({ task: 'waiter', waitsOn: 'TestOp.wait' })
    op.wake('value')
    await waitAllTasksBlocked()
    expect(got).toBe('value')
    expect(waitingTasks().some((w) => w.waitsOn === 'TestOp.wait')).toBe(false)
  })
})
