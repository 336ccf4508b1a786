/**
 * `new CancelScope({ signal })` (issue 12, point 8): a scope that follows an
 * AbortSignal, so a request's work is cancelled when its client hangs up.
 */
import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { CancelScope, Cancelled, sleepForever } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'

describe('CancelScope({ signal })', () => {
  it('an already aborted signal cancels the scope at entry', async () => {
    const ac = new AbortController()
    ac.abort(new Error('client hung up'))
    const scope = new CancelScope({ signal: ac.signal })
    let reached = false
    const v = await scope.run(async () => {
      reached = true
      await sleepForever()
    })
    expect(reached).toBe(true)
    expect(v).toBeUndefined()
    expect(scope.cancelCalled).toBe(true)
    expect(scope.cancelledCaught).toBe(true)
    expect(scope.cancelReason).toBeInstanceOf(Cancelled)
    expect(((scope.cancelReason as Error).cause as Error).message).toBe('client hung up')
  })

  it('a signal that aborts while the body waits cancels it; the listener is there only while entered', async () => {
    const ac = new AbortController()
    const scope = new CancelScope({ signal: ac.signal })
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0)
    const done = scope.run(async () => {
      await sleepForever()
    })
    await waitAllTasksBlocked()
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1)
    ac.abort()
    expect(await done).toBeUndefined()
    expect(scope.cancelledCaught).toBe(true)
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0)
  })

  it('a scope that exits before its signal aborts removes its listener and stays uncancelled', async () => {
    const ac = new AbortController()
    const scope = new CancelScope({ signal: ac.signal })
    expect(await scope.run(async () => 'done')).toBe('done')
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0)
    ac.abort()
    expect(scope.cancelCalled).toBe(false)
  })

  it('the scope signal of a scope tied to a signal aborts with it', async () => {
    const ac = new AbortController()
    const scope = new CancelScope({ signal: ac.signal })
    await scope.run(async (s) => {
      ac.abort()
      expect(s.signal.aborted).toBe(true)
    })
  })

  it('a signal that is not an AbortSignal is a TypeError naming the option', () => {
    expect(() => new CancelScope({ signal: {} as AbortSignal })).toThrow(/signal must be an AbortSignal/)
  })
})
