/**
 * warmUpWorkers(): starts the run's pool and resolves once every thread has
 * loaded gotrio's worker entry; a checkpoint, cancellable; cheap when warm.
 * Also: pool threads load .ts task modules with no loader on a Node that
 * strips types (issue: cold start of the first worker task).
 */
import { CancelScope, Cancelled, run, runInWorker, warmUpWorkers, workerTask } from '@gotrio/runtime'
import { describe, expect, it } from 'vitest'
import { currentPool, runsTypeScript, tsxLoader } from '../src/worker-pool.ts'
import type * as T from './fixtures/worker-tasks.ts'

const add = workerTask<typeof T.add>(new URL('./fixtures/worker-tasks.ts', import.meta.url), 'add')

describe('warmUpWorkers', () => {
  it('makes the pool and waits until every thread has booted; then a task runs', async () => {
    await run(
      async () => {
        const pool = currentPool()
        // Threads cannot boot synchronously: nothing has booted yet, so the wait below is real.
        expect(Atomics.load(pool.booted, 0)).toBe(0)
        await warmUpWorkers()
        expect(Atomics.load(pool.booted, 0)).toBeGreaterThanOrEqual(2)
        expect(currentPool()).toBe(pool) // the same pool serves the tasks
        await warmUpWorkers() // warm: returns at once
        expect(await runInWorker(add, 2, 3)).toBe(5)
      },
      { workers: 2 },
    )
  })

  it('is a checkpoint: in a cancelled scope it throws Cancelled, and the pool still works after', async () => {
    await run(
      async () => {
        const scope = new CancelScope()
        scope.cancel()
        let error: unknown
        await scope.run(async () => {
          try {
            await warmUpWorkers()
          } catch (e) {
            error = e
            throw e
          }
        })
        expect(error).toBeInstanceOf(Cancelled)
        expect(await runInWorker(add, 1, 1)).toBe(2)
      },
      { workers: 1 },
    )
  })

  it('cancelled while waiting, it throws Cancelled; the threads go on booting', async () => {
    await run(
      async () => {
        const scope = new CancelScope()
        const pool = currentPool()
        let error: unknown
        await scope.run(async () => {
          const waiting = warmUpWorkers().catch((e: unknown) => {
            error = e
          })
          scope.cancel()
          await waiting
        })
        expect(error).toBeInstanceOf(Cancelled)
        await warmUpWorkers()
        expect(Atomics.load(pool.booted, 0)).toBeGreaterThanOrEqual(1)
      },
      { workers: 1 },
    )
  })
})

describe('worker threads and TypeScript', () => {
  it('on a Node that runs the sources as they are, threads get no tsx loader (unless the process runs under tsx)', () => {
    const major = Number(process.versions.node.split('.')[0])
    if (major >= 24) expect(runsTypeScript()).toBe(true)
    if (major <= 22) expect(runsTypeScript()).toBe(false) // no `await using` in Node 22's V8
    const underTsx = process.execArgv.some((a) => a.includes('tsx'))
    const loader = tsxLoader(new URL('../src/worker-entry.ts', import.meta.url).href)
    if (runsTypeScript() && !underTsx) expect(loader).toBeUndefined()
    else expect(loader).toMatch(/tsx/)
    expect(tsxLoader('file:///x/dist/worker-entry.js')).toBe(underTsx ? loader : undefined)
  })
})
