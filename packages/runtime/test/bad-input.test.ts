/**
 * Bad input, part 2 (issue 6): every public function of @gotrio/runtime tried
 * with wrong types, NaN, negative numbers, Infinity where not allowed and
 * foreign objects. Each case checks the error class, that the message names
 * the rule, and where it matters that the object stays usable afterwards.
 * validation.test.ts (and the bad-time cases of timeouts.test.ts) hold the
 * first cases; nothing here repeats them. Gaps this sweep found were fixed;
 * their tests say so ("Regression") and docs/RELIABILITY.md lists them.
 */
import { describe, expect, it } from 'vitest'
import {
  CancelScope,
  NurseryError,
  currentTime,
  failAfter,
  moveOnAfter,
  openNursery,
  run,
  runInWorker,
  sleep,
  workerTask,
  type TaskStatus,
} from '@gotrio/runtime'
import type * as T from './fixtures/worker-tasks.js'
import { rejection, thrown } from './helpers.js'

const fixtures = new URL('./fixtures/worker-tasks.ts', import.meta.url)
const add = workerTask<typeof T.add>(fixtures, 'add')

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

describe('run', () => {
  it('options null is a TypeError naming the shape; run works afterwards', async () => {
    const e = await rejection(run(async () => 1, null as unknown as object))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/run\(main, options\): options must be an object like \{ workers \}/)
    expect(await run(async () => 2)).toBe(2)
  })

  it('workers: Infinity is a RangeError naming the option', async () => {
    const e = await rejection(run(async () => 1, { workers: Infinity }))
    expect(e).toBeInstanceOf(RangeError)
    expect(message(e)).toMatch(/run\(\) option workers must be a positive integer \(the number of worker threads\), got Infinity/)
  })

  it.each([-1, NaN, -Infinity])('cancelGraceMs: %s is a RangeError naming the option', async (ms) => {
    const e = await rejection(run(async () => 1, { cancelGraceMs: ms }))
    expect(e).toBeInstanceOf(RangeError)
    expect(message(e)).toMatch(
      new RegExp(`run\\(\\) option cancelGraceMs must be a non-negative number of milliseconds \\(or Infinity\\), got ${ms}`),
    )
  })

  it("cancelGraceMs: 'x' is a TypeError naming the option", async () => {
    const e = await rejection(run(async () => 1, { cancelGraceMs: 'x' as unknown as number }))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/run\(\) option cancelGraceMs must be a number of milliseconds, got string x/)
  })

  it('a main that throws synchronously rejects run with that very error; the next run works', async () => {
    const boom = new Error('sync boom')
    const e = await rejection(
      run((() => {
        throw boom
      }) as unknown as () => Promise<void>),
    )
    expect(e).toBe(boom)
    expect(await run(async () => 3)).toBe(3)
  })

  // Regression (was a bug: unclear error): a string `workers` is reported as a RangeError whose
  // message prints it like a number ("got 2"); runtime.ts checkWorkers does not
  // separate "not a number" (TypeError, as checkMs and checkMaxBufferSize do)
  // from "out of range".
  it("workers: '2' (a string) is a TypeError whose message shows it was a string", async () => {
    const e = await rejection(run(async () => 1, { workers: '2' as unknown as number }))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/option workers must be a positive integer.*got (string|'2')/)
  })

  // Regression (was a bug: missing error): an unknown option (a typo: `worker` for `workers`) is
  // silently ignored; run.ts/runtime.ts never look at unknown keys (STYLE.md:
  // "Avoid ... silently tolerating misuse").
  it('an unknown option ({ worker: 2 }) is a TypeError naming it', async () => {
    const e = await rejection(run(async () => 1, { worker: 2 } as unknown as object))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/worker/)
  })
})

describe('openNursery, startSoon, start', () => {
  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    ['body', 'string'],
  ])('openNursery(%s) is a TypeError that says what it got', async (body, got) => {
    const e = await rejection(openNursery(body as unknown as () => Promise<void>))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(
      new RegExp(`openNursery\\(body\\): body must be a function \\(an async function returning a promise\\), got ${got}`),
    )
  })

  it('a body that throws synchronously is grouped like any body error (the call itself does not throw)', async () => {
    const boom = new Error('sync body')
    const p = openNursery((() => {
      throw boom
    }) as unknown as () => Promise<void>)
    const e = await rejection(p)
    expect(e).toBeInstanceOf(NurseryError)
    expect((e as NurseryError).errors).toEqual([boom])
  })

  it('startSoon(null) throws a TypeError at the call; the nursery still runs tasks', async () => {
    const ran: string[] = []
    await openNursery(async (n) => {
      const e = thrown(() => n.startSoon(null as unknown as () => Promise<void>))
      expect(e).toBeInstanceOf(TypeError)
      expect(message(e)).toMatch(/Nursery\.startSoon\(fn\): fn must be a function \(an async function returning a promise\), got null/)
      n.startSoon(async () => {
        await sleep(0)
        ran.push('after')
      })
    })
    expect(ran).toEqual(['after'])
  })

  it('startSoon(a plain object shaped like a WorkerTask) is a TypeError: only workerTask() makes one', async () => {
    await openNursery(async (n) => {
      const fake = { module: fixtures.href, name: 'add' }
      const e = thrown(() => n.startSoon(fake as unknown as () => Promise<void>))
      expect(e).toBeInstanceOf(TypeError)
      expect(message(e)).toMatch(/Nursery\.startSoon\(fn\): fn must be a function .*got object/)
    })
  })

  it('start(null) and start(plain object) throw a TypeError at the call; start works afterwards', async () => {
    await openNursery(async (n) => {
      for (const [bad, got] of [
        [null, 'null'],
        [{ module: fixtures.href, name: 'startedWith' }, 'object'],
      ] as const) {
        const e = thrown(() => n.start(bad as unknown as (s: TaskStatus<number>) => Promise<void>))
        expect(e).toBeInstanceOf(TypeError)
        expect(message(e)).toMatch(new RegExp(`Nursery\\.start\\(fn\\): fn must be a function .*got ${got}`))
      }
      expect(await n.start(async (s: TaskStatus<number>) => s.started(7))).toBe(7)
    })
  })

  it('a start task that throws synchronously before started() rejects start with that error, ungrouped; the nursery goes on', async () => {
    const boom = new Error('sync start')
    const value = await openNursery(async (n) => {
      const e = await rejection(
        n.start((() => {
          throw boom
        }) as unknown as (s: TaskStatus<void>) => Promise<void>),
      )
      expect(e).toBe(boom)
      return 'body done'
    })
    expect(value).toBe('body done')
  })
})

describe('CancelScope', () => {
  it.each([5, 'x', true])('options %s is a TypeError naming the expected shape', (options) => {
    const e = thrown(() => new CancelScope(options as unknown as object))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/CancelScope options must be an object like \{ deadline, relativeDeadline, shield \}/)
  })

  it('deadline, relativeDeadline and shield of the wrong type are TypeErrors naming the option', () => {
    const d = thrown(() => new CancelScope({ deadline: '5' as unknown as number }))
    expect(d).toBeInstanceOf(TypeError)
    expect(message(d)).toMatch(/CancelScope deadline must be a number \(currentTime\(\) milliseconds\), got string/)
    const r = thrown(() => new CancelScope({ relativeDeadline: '5' as unknown as number }))
    expect(r).toBeInstanceOf(TypeError)
    expect(message(r)).toMatch(/CancelScope relativeDeadline must be a number of milliseconds, got string 5/)
    const s = thrown(() => new CancelScope({ shield: 'yes' as unknown as boolean }))
    expect(s).toBeInstanceOf(TypeError)
    expect(message(s)).toMatch(/CancelScope\.shield must be a boolean, got string/)
  })

  it('relativeDeadline -Infinity is a RangeError; deadline -Infinity is allowed (already expired)', async () => {
    const e = thrown(() => new CancelScope({ relativeDeadline: -Infinity }))
    expect(e).toBeInstanceOf(RangeError)
    expect(message(e)).toMatch(/relativeDeadline must be a non-negative number of milliseconds \(or Infinity\), got -Infinity/)
    const past = new CancelScope({ deadline: -Infinity })
    expect(await past.run(() => sleep(10_000))).toBeUndefined()
    expect(past.cancelledCaught).toBe(true)
  })

  it.each([
    ['5', 'string'],
    [undefined, 'undefined'],
    [null, 'object'],
  ])('the deadline setter refuses %s with a TypeError, leaves the deadline as it was, and the scope still works', async (bad, got) => {
    const scope = new CancelScope()
    scope.deadline = currentTime() + 60_000
    const before = scope.deadline
    const e = thrown(() => {
      scope.deadline = bad as unknown as number
    })
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(new RegExp(`CancelScope\\.deadline must be a number \\(currentTime\\(\\) milliseconds\\), got ${got}`))
    expect(scope.deadline).toBe(before)
    // Still usable: a valid deadline set inside run() fires.
    const result = await scope.run(async (s) => {
      s.deadline = currentTime() + 5
      await sleep(10_000)
      return 'not reached'
    })
    expect(result).toBeUndefined()
    expect(scope.cancelledCaught).toBe(true)
  })

  it('a refused deadline on an entered scope keeps the armed deadline', async () => {
    const scope = new CancelScope({ relativeDeadline: 5 })
    const result = await scope.run(async (s) => {
      expect(() => {
        s.deadline = NaN
      }).toThrow(RangeError)
      expect(() => {
        s.deadline = 'soon' as unknown as number
      }).toThrow(TypeError)
      await sleep(10_000)
    })
    expect(result).toBeUndefined()
    expect(scope.cancelledCaught).toBe(true)
  })

  it.each([
    [undefined, 'undefined'],
    [1, 'number'],
    [null, 'object'],
  ])('the shield setter refuses %s with a TypeError; the shield keeps working', async (bad, got) => {
    const outer = new CancelScope()
    const record: string[] = []
    await outer.run(async () => {
      await new CancelScope({ shield: true }).run(async (inner) => {
        const e = thrown(() => {
          inner.shield = bad as unknown as boolean
        })
        expect(e).toBeInstanceOf(TypeError)
        expect(message(e)).toMatch(new RegExp(`CancelScope\\.shield must be a boolean, got ${got}`))
        expect(inner.shield).toBe(true)
        outer.cancel()
        await sleep(1) // shielded: not cancelled
        record.push('slept under the shield')
      })
    })
    expect(record).toEqual(['slept under the shield'])
  })

  it('run(null) rejects with a TypeError and does not use the scope up', async () => {
    const scope = new CancelScope()
    const e = await rejection(scope.run(null as unknown as () => Promise<void>))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/CancelScope\.run\(fn\): fn must be a function \(an async function returning a promise\), got null/)
    expect(await scope.run(async () => 'ok')).toBe('ok')
  })

  it('a second run() while the first is still running is an Error saying single-use; the first completes', async () => {
    const scope = new CancelScope()
    const first = scope.run(async () => {
      await sleep(1)
      return 'first'
    })
    const e = await rejection(scope.run(async () => 'second'))
    expect(e).toBeInstanceOf(Error)
    expect(message(e)).toMatch(/already entered: a cancel scope is single-use; make a new CancelScope for each run/)
    expect(await first).toBe('first')
  })

  it('cancel() and the deadline setter called on a foreign object are TypeErrors', () => {
    expect(() => CancelScope.prototype.cancel.call({} as CancelScope)).toThrow(TypeError)
    const setDeadline = Object.getOwnPropertyDescriptor(CancelScope.prototype, 'deadline')!.set!
    expect(() => setDeadline.call({}, 5)).toThrow(TypeError)
  })

  // Regression (was a bug: unclear error): run() on something that is not a CancelScope (a
  // foreign `this`, or a detached `const { run } = scope`) fails deep inside
  // with "this._enter is not a function" / "Cannot read properties of
  // undefined (reading '_enter')" (cancel-scope.ts, CancelScope.run, the
  // `this._enter(ctx.status)` line): nothing says a CancelScope was needed.
  it('run() with a foreign or missing `this` is a TypeError that names CancelScope', async () => {
    const e = await rejection(CancelScope.prototype.run.call({} as CancelScope, async () => 1))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/CancelScope/)
    const { run: detached } = new CancelScope()
    const e2 = await rejection(detached(async () => 1))
    expect(message(e2)).toMatch(/CancelScope/)
  })

  // Regression (was a bug: missing error): an unknown option (a typo: `dedline`) is silently
  // ignored and the scope has no deadline at all (cancel-scope.ts constructor
  // destructures the three known keys only).
  it('an unknown option ({ dedline: 5 }) is a TypeError naming it', () => {
    const e = thrown(() => new CancelScope({ dedline: 5 } as unknown as object))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/dedline/)
  })
})

describe('sleep, moveOnAfter, failAfter', () => {
  it.each([
    [undefined, 'undefined undefined'],
    [null, 'object null'],
    [10n, 'bigint 10'],
  ])('sleep(%s) is a TypeError that says what it got', (ms, got) => {
    const e = thrown(() => sleep(ms as unknown as number))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(new RegExp(`sleep\\(ms\\): ms must be a number of milliseconds, got ${got}`))
  })

  it('after a refused sleep(-1) the task and its nursery carry on, uncancelled', async () => {
    const done: string[] = []
    await openNursery(async (n) => {
      n.startSoon(async () => {
        expect(() => sleep(-1)).toThrow(RangeError)
        await sleep(1)
        done.push('slept')
      })
      await sleep(0)
      expect(n.cancelScope.cancelCalled).toBe(false)
    })
    expect(done).toEqual(['slept'])
  })

  it("moveOnAfter('1', fn) is a TypeError and failAfter(-Infinity, fn) a RangeError, both at the call", () => {
    const a = thrown(() => moveOnAfter('1' as unknown as number, async () => 1))
    expect(a).toBeInstanceOf(TypeError)
    expect(message(a)).toMatch(/moveOnAfter\(ms, fn\): ms must be a number of milliseconds, got string 1/)
    const b = thrown(() => failAfter(-Infinity, async () => 1))
    expect(b).toBeInstanceOf(RangeError)
    expect(message(b)).toMatch(/failAfter\(ms, fn\): ms must be a non-negative number of milliseconds \(or Infinity\), got -Infinity/)
  })

  it('moveOnAfter(1, null) and failAfter(1, null) name the fn rule', () => {
    expect(message(thrown(() => moveOnAfter(1, null as unknown as () => Promise<void>)))).toMatch(
      /moveOnAfter\(ms, fn\): fn must be a function \(an async function returning a promise\), got null/,
    )
    expect(message(thrown(() => failAfter(1, null as unknown as () => Promise<void>)))).toMatch(
      /failAfter\(ms, fn\): fn must be a function .*got null/,
    )
  })

  it('Infinity is allowed for moveOnAfter (no deadline)', async () => {
    expect(await moveOnAfter(Infinity, async () => 'done')).toBe('done')
  })
})

describe('workerTask and runInWorker', () => {
  it.each([
    [42, 'number'],
    [null, 'object'],
    [undefined, 'undefined'],
  ])('workerTask(%s) is a TypeError naming the module rule', (module, got) => {
    const e = thrown(() => workerTask(module as unknown as string))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(new RegExp(`workerTask\\(module\\): module must be a URL or a string, got ${got}`))
  })

  it.each([[''], [42], [null]])('workerTask(url, %s) is a TypeError naming the exportName rule', (name) => {
    const e = thrown(() => workerTask(fixtures, name as unknown as string))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/workerTask\(module, exportName\): exportName must be the name of an exported function/)
  })

  // Regression (was a bug: unclear error): workerTask('') says "module must be a URL or a string,
  // got string" — it was a string; the rule broken is "not empty"
  // (worker-task.ts moduleUrl, the `module === ''` branch shares the message).
  it("workerTask('') says that the module must not be empty", () => {
    expect(message(thrown(() => workerTask('')))).toMatch(/empty/)
  })

  it.each([
    ['an async function', async () => 1],
    ['a plain object shaped like a WorkerTask', { module: fixtures.href, name: 'add' }],
    ['null', null],
  ])('runInWorker(%s) is a TypeError saying to use workerTask()', (_what, task) => {
    const e = thrown(() => runInWorker(task as never))
    expect(e).toBeInstanceOf(TypeError)
    expect(message(e)).toMatch(/runInWorker\(task, \.\.\.args\): task must be made with workerTask\(module, exportName\)/)
  })

  it('a module that does not exist fails the task with an Error naming it; the pool still runs tasks', async () => {
    await run(
      async () => {
        const missing = workerTask(new URL('./fixtures/no-such-module.ts', import.meta.url), 'f')
        const e = await rejection(runInWorker(missing))
        expect(e).toBeInstanceOf(Error)
        expect(message(e)).toMatch(/Cannot find module .*no-such-module\.ts/)
        expect(await runInWorker(add, 1, 2)).toBe(3)
      },
      { workers: 1 },
    )
  })

  it('an argument structured clone refuses fails the task, and the pool still runs tasks', async () => {
    await run(
      async () => {
        const e = await rejection(runInWorker(add, (() => 1) as unknown as number, 2))
        expect(e).toBeInstanceOf(Error)
        expect(message(e)).toMatch(/could not be cloned/)
        expect(await runInWorker(add, 1, 2)).toBe(3)
      },
      { workers: 1 },
    )
  })

  // Regression (was a bug: wrong error): an argument that structured clone refuses (a function,
  // a symbol) is reported as "worker task add failed because its worker
  // thread died: () => 1 could not be cloned." — the thread did not die; the
  // argument was refused before it left this thread. It should be a
  // DataCloneError/TypeError at the call naming the argument (worker-pool.ts
  // maps Piscina's postMessage failure to the thread-death message).
  it('an argument structured clone refuses is a DataCloneError/TypeError that does not blame a dead thread', async () => {
    await run(
      async () => {
        const e = await rejection(runInWorker(add, Symbol('x') as unknown as number, 2))
        expect((e as Error).name).toMatch(/DataCloneError|TypeError/)
        expect(message(e)).not.toMatch(/thread died/)
      },
      { workers: 1 },
    )
  })
})
