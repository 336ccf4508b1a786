/**
 * Very deep nesting: entering, cancelling and unwinding thousands of nested
 * scopes and nurseries must not grow the JS stack (Trio
 * test_very_deep_cancel_scope_nesting: "used to crash with a RecursionError").
 */
import { expect, test } from 'vitest'
import { CancelScope, Cancelled, NurseryError, openNursery, sleepForever, type Nursery } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { deferred, rejection } from './helpers.js'

const DEPTH = 5_000

test(`cancelling the outermost of ${DEPTH} nested cancel scopes (Trio test_very_deep_cancel_scope_nesting)`, async () => {
  const scopes: CancelScope[] = []
  const bottom = deferred()
  let innermostError: unknown
  async function nest(level: number): Promise<void> {
    const scope = new CancelScope()
    scopes.push(scope)
    await scope.run(async () => {
      if (level + 1 < DEPTH) await nest(level + 1)
      else {
        bottom.resolve()
        try {
          await sleepForever()
        } catch (e) {
          innermostError = e
          throw e
        }
      }
    })
  }
  const done = nest(0)
  await bottom.promise
  expect(scopes).toHaveLength(DEPTH)
  scopes[0]!.cancel()
  await done
  expect(innermostError).toBeInstanceOf(Cancelled)
  expect(scopes[0]!.cancelledCaught).toBe(true)
  expect(scopes.slice(1).every((s) => !s.cancelCalled && !s.cancelledCaught)).toBe(true)
  expect(scopes.every((s) => s.signal.aborted)).toBe(true)
})

test(`cancelling the outermost of ${DEPTH} nested nurseries, each with a sleeping task`, async () => {
  let cancelled = 0
  async function sleeper(): Promise<void> {
    try {
      await sleepForever()
    } catch (e) {
      if (e instanceof Cancelled) cancelled++
      throw e
    }
  }
  let outermost: Nursery | undefined
  async function nest(level: number): Promise<void> {
    await openNursery(async (n) => {
      outermost ??= n
      n.startSoon(sleeper)
      if (level + 1 < DEPTH) await nest(level + 1)
    })
  }
  const done = nest(0)
  await waitAllTasksBlocked()
  outermost!.cancelScope.cancel()
  await done
  expect(cancelled).toBe(DEPTH)
})

test(`an error at the bottom of ${DEPTH} nested nurseries reaches the top`, async () => {
  const boom = new Error('boom at the bottom')
  async function nest(level: number): Promise<void> {
    await openNursery(async (n) => {
      n.startSoon(sleepForever)
      if (level + 1 < DEPTH) await nest(level + 1)
      else {
        await waitAllTasksBlocked()
        throw boom
      }
    })
  }
  const e = await rejection(nest(0))
  expect(e).toBeInstanceOf(NurseryError)
  // Each level wraps the group of the level below: walk down to the original error.
  let inner: unknown = e
  let levels = 0
  while (inner instanceof NurseryError) {
    expect(inner.errors).toHaveLength(1)
    inner = inner.errors[0]
    levels++
  }
  expect(levels).toBe(DEPTH)
  expect(inner).toBe(boom)
})
