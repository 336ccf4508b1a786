/** Type-level tests of the public API (API.md), checked by vitest's typecheck mode. */
import { describe, expectTypeOf, test } from 'vitest'
import {
  CancelScope,
  failAfter,
  moveOnAfter,
  openNursery,
  run,
  runInWorker,
  sleep,
  workerTask,
  type Nursery,
  type TaskStatus,
  type WorkerTask,
} from '@gotrio/runtime'

type Tasks = typeof import('./fixtures/sample-tasks.js')
const url = new URL('./fixtures/sample-tasks.ts', import.meta.url)

describe('run', () => {
  test('returns a promise of what main resolves with', () => {
    expectTypeOf(run(async () => 42)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(run(async () => 'x', { workers: 2 })).toEqualTypeOf<Promise<string>>()
    // @ts-expect-error workers is a number
    void run(async () => 1, { workers: '2' })
    // @ts-expect-error main must return a promise
    void run(() => 1)
  })
})

describe('openNursery', () => {
  test('openNursery<T> resolves with the body type and passes a Nursery', () => {
    expectTypeOf(openNursery(async () => 'v')).toEqualTypeOf<Promise<string>>()
    void openNursery(async (n) => {
      expectTypeOf(n).toEqualTypeOf<Nursery>()
      expectTypeOf(n.cancelScope).toEqualTypeOf<CancelScope>()
    })
  })

  test('startSoon checks the arguments against the function', () => {
    void openNursery(async (n) => {
      const task = async (a: number, b: string): Promise<void> => {
        void a
        void b
      }
      expectTypeOf(n.startSoon(task, 1, 'x')).toEqualTypeOf<void>()
      // @ts-expect-error wrong argument type
      n.startSoon(task, 'x', 1)
      // @ts-expect-error missing argument
      n.startSoon(task, 1)
    })
  })

  test('start<V> infers V from the TaskStatus parameter, and checks the other arguments', () => {
    void openNursery(async (n) => {
      const server = async (status: TaskStatus<{ port: number }>, host: string): Promise<void> => {
        status.started({ port: host.length })
      }
      expectTypeOf(n.start(server, 'localhost')).toEqualTypeOf<Promise<{ port: number }>>()
      expectTypeOf(n.start(async (s: TaskStatus<void>) => s.started())).toEqualTypeOf<Promise<void>>()
      // @ts-expect-error host must be a string
      void n.start(server, 80)
      const status = {} as TaskStatus<number>
      // @ts-expect-error started() takes the TaskStatus value type
      status.started('not a number')
    })
  })
})

describe('cancel scopes and timeouts', () => {
  test('CancelScope.run returns T | undefined', () => {
    const scope = new CancelScope({ relativeDeadline: 10, shield: false })
    expectTypeOf(scope.run(async (s) => (expectTypeOf(s).toEqualTypeOf<CancelScope>(), 1))).toEqualTypeOf<Promise<number | undefined>>()
    expectTypeOf(scope.cancelCalled).toEqualTypeOf<boolean>()
    expectTypeOf(scope.cancelledCaught).toEqualTypeOf<boolean>()
    expectTypeOf(scope.deadline).toEqualTypeOf<number>()
    expectTypeOf(scope.signal).toEqualTypeOf<AbortSignal>()
    // @ts-expect-error cancelCalled is read-only
    scope.cancelCalled = true
  })

  test('moveOnAfter returns T | undefined, failAfter returns T', () => {
    expectTypeOf(moveOnAfter(1, async () => 'x')).toEqualTypeOf<Promise<string | undefined>>()
    expectTypeOf(failAfter(1, async () => 'x')).toEqualTypeOf<Promise<string>>()
    expectTypeOf(sleep(1)).toEqualTypeOf<Promise<void>>()
  })
})

describe('worker tasks', () => {
  test('workerTask<typeof import(...).fn> takes its parameter and (awaited) return types', () => {
    const add = workerTask<Tasks['add']>(url, 'add')
    expectTypeOf(add).toEqualTypeOf<WorkerTask<[a: number, b: number], number>>()
    const greet = workerTask<Tasks['greet']>(url, 'greet')
    expectTypeOf(greet).toEqualTypeOf<WorkerTask<[name: string, times?: number], string>>()
  })

  test('runInWorker and startSoon/start check the arguments of a worker task', () => {
    const add = workerTask<Tasks['add']>(url, 'add')
    expectTypeOf(runInWorker(add, 1, 2)).toEqualTypeOf<Promise<number>>()
    // @ts-expect-error arguments must be numbers
    void runInWorker(add, '1', 2)
    const serve = workerTask<Tasks['serve']>(url, 'serve')
    void openNursery(async (n) => {
      n.startSoon(add, 1, 2)
      // @ts-expect-error missing argument
      n.startSoon(add, 1)
      expectTypeOf(n.start(serve, 'localhost')).toEqualTypeOf<Promise<{ port: number }>>()
    })
  })
})
