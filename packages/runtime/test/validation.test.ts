/**
 * Bad input: every misuse is an error of the right class, thrown where the
 * mistake is made, whose message states the rule that was broken.
 */
import { describe, expect, test } from 'vitest'
import { CancelScope, failAfter, moveOnAfter, openNursery, run, sleep, type Nursery, type TaskStatus } from '@gotrio/runtime'
import { rejection, thrown } from './helpers.js'

describe('times', () => {
  test('sleep(-1) and sleep(NaN) throw RangeError synchronously', () => {
    for (const ms of [-1, NaN, -Infinity]) {
      const e = thrown(() => sleep(ms))
      expect(e).toBeInstanceOf(RangeError)
      expect((e as Error).message).toMatch(/sleep\(ms\): ms must be a non-negative number of milliseconds/)
    }
  })

  test('moveOnAfter(NaN, fn) and failAfter(-1, fn) throw RangeError synchronously', () => {
    const a = thrown(() => moveOnAfter(NaN, async () => {}))
    expect(a).toBeInstanceOf(RangeError)
    expect((a as Error).message).toMatch(/moveOnAfter\(ms, fn\): ms must be a non-negative/)
    const b = thrown(() => failAfter(-1, async () => {}))
    expect(b).toBeInstanceOf(RangeError)
    expect((b as Error).message).toMatch(/failAfter\(ms, fn\): ms must be a non-negative/)
  })
})

describe('CancelScope (Trio test_cancel_scope_validation)', () => {
  test('deadline NaN is a RangeError; use Infinity for no deadline', () => {
    const e = thrown(() => new CancelScope({ deadline: NaN }))
    expect(e).toBeInstanceOf(RangeError)
    expect((e as Error).message).toMatch(/must not be NaN/)
    const scope = new CancelScope()
    const e2 = thrown(() => {
      scope.deadline = NaN
    })
    expect(e2).toBeInstanceOf(RangeError)
    expect(scope.deadline).toBe(Infinity)
  })

  test('a negative or NaN relativeDeadline is a RangeError', () => {
    for (const rel of [-3, NaN]) {
      const e = thrown(() => new CancelScope({ relativeDeadline: rel }))
      expect(e).toBeInstanceOf(RangeError)
      expect((e as Error).message).toMatch(/relativeDeadline must be a non-negative number/)
    }
  })

  test('deadline and relativeDeadline together are refused', () => {
    const e = thrown(() => new CancelScope({ deadline: 7, relativeDeadline: 3 }))
    expect(e).toBeInstanceOf(TypeError)
    expect((e as Error).message).toMatch(/either deadline .* or relativeDeadline, not both/)
  })

  test('shield must be a boolean; options must be an object', () => {
    expect(thrown(() => new CancelScope({ shield: 1 as unknown as boolean }))).toBeInstanceOf(TypeError)
    expect(thrown(() => new CancelScope(null as unknown as object))).toBeInstanceOf(TypeError)
  })

  test('a CancelScope run twice is an Error saying it is single-use', async () => {
    const scope = new CancelScope()
    await scope.run(async () => {})
    const e = await rejection(scope.run(async () => {}))
    expect(e).toBeInstanceOf(Error)
    expect((e as Error).message).toMatch(/single-use/)
  })
})

describe('nurseries', () => {
  test('startSoon and start on a closed nursery throw an Error saying it is closed', async () => {
    let nursery: Nursery | undefined
    await openNursery(async (n) => {
      nursery = n
    })
    const e = thrown(() => nursery!.startSoon(async () => {}))
    expect(e).toBeInstanceOf(Error)
    expect((e as Error).message).toMatch(/called on a closed nursery: its body and all of its tasks have finished/)
    const e2 = thrown(() => nursery!.start(async (s: TaskStatus<void>) => s.started()))
    expect((e2 as Error).message).toMatch(/Nursery\.start\(\) was called on a closed nursery/)
  })

  test('started() twice throws an Error', async () => {
    let e: unknown
    await openNursery(async (n) => {
      await n.start(async (s: TaskStatus<number>) => {
        s.started(1)
        e = thrown(() => s.started(2))
      })
    })
    expect(e).toBeInstanceOf(Error)
    expect((e as Error).message).toMatch(/called twice.*exactly once/)
  })

  test('a start task returning without started() is an Error', async () => {
    await openNursery(async (n) => {
      const e = await rejection(n.start(async function quitter(_s: TaskStatus<void>) {}))
      expect(e).toBeInstanceOf(Error)
      expect((e as Error).message).toMatch(/quitter returned without calling status\.started\(\); .* must call status\.started\(value\)/)
    })
  })

  test('startSoon(notAFunction) is a TypeError; openNursery(42) is a TypeError', async () => {
    await openNursery(async (n) => {
      const e = thrown(() => n.startSoon(42 as unknown as () => Promise<void>))
      expect(e).toBeInstanceOf(TypeError)
      expect((e as Error).message).toMatch(/Nursery\.startSoon\(fn\): fn must be a function.*got number/)
    })
    const e = await rejection(openNursery(42 as unknown as () => Promise<void>))
    expect(e).toBeInstanceOf(TypeError)
    expect((e as Error).message).toMatch(/openNursery\(body\): body must be a function/)
  })
})

describe('run', () => {
  test('workers: 0 (or not a positive integer) is a RangeError naming the option', async () => {
    for (const workers of [0, -1, 1.5, NaN]) {
      const e = await rejection(run(async () => 1, { workers }))
      expect(e).toBeInstanceOf(RangeError)
      expect((e as Error).message).toMatch(/option workers must be a positive integer/)
    }
  })

  test('main must be a function; options must be an object', async () => {
    expect(await rejection(run(42 as unknown as () => Promise<void>))).toBeInstanceOf(TypeError)
    expect(await rejection(run(async () => 1, 5 as unknown as object))).toBeInstanceOf(TypeError)
  })

  test('run resolves with the value of main, and rejects with its error unchanged (Trio test_basic, test_initial_task_error)', async () => {
    expect(await run(async () => 8)).toBe(8)
    const err = new Error('17')
    expect(
      await rejection(
        run(async () => {
          throw err
        }),
      ),
    ).toBe(err)
  })
})
