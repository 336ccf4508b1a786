/**
 * Type-level: what may be passed to a worker task (issue 12, point 9). A
 * memory-channel endpoint is a type error (the runtime's TypeError stays, for
 * code the compiler does not see); shared endpoints and plain values are fine.
 */
import { describe, expectTypeOf, test } from 'vitest'
import { openMemoryChannel, openSharedChannel, type ReceiveChannel, type SendChannel } from '@gotrio/channels'
import { openNursery, runInWorker, workerTask, type TaskStatus, type ThreadLocalArgument } from '@gotrio/runtime'

declare function produce(out: SendChannel<number>, n: number): Promise<void>
declare function relay(jobs: { input: ReceiveChannel<string>; outputs: SendChannel<string>[] }): Promise<number>
declare function serveFrom(status: TaskStatus<string>, input: ReceiveChannel<string>): Promise<void>

const url = new URL('./fixtures/first-hour-tasks.ts', import.meta.url)
const producer = workerTask<typeof produce>(url, 'produce')
const relayer = workerTask<typeof relay>(url, 'relay')
const server = workerTask<typeof serveFrom>(url, 'serveFrom')

describe('worker-task arguments', () => {
  test('a memory-channel endpoint is a type error, a shared one is fine (runInWorker)', () => {
    const [memSend] = openMemoryChannel<number>(0)
    const [sharedSend] = openSharedChannel<number>(0)
    expectTypeOf(runInWorker(producer, sharedSend, 5)).toEqualTypeOf<Promise<void>>()
    // @ts-expect-error a memory-channel endpoint cannot cross threads
    void runInWorker(producer, memSend, 5)
    // @ts-expect-error the other arguments are still checked
    void runInWorker(producer, sharedSend, 'five')
  })

  test('inside objects and arrays too', () => {
    const [, memRecv] = openMemoryChannel<string>(0)
    const [sharedOut, sharedIn] = openSharedChannel<string>(0)
    const [memOut] = openMemoryChannel<string>(0)
    expectTypeOf(runInWorker(relayer, { input: sharedIn, outputs: [sharedOut] })).toEqualTypeOf<Promise<number>>()
    // @ts-expect-error a memory receiver in an object
    void runInWorker(relayer, { input: memRecv, outputs: [sharedOut] })
    // @ts-expect-error a memory sender in an array in an object
    void runInWorker(relayer, { input: sharedIn, outputs: [sharedOut, memOut] })
  })

  test('nursery.startSoon and nursery.start check the same way', () => {
    void openNursery(async (n) => {
      const [memSend] = openMemoryChannel<number>(0)
      const [sharedSend] = openSharedChannel<number>(0)
      const [, memIn] = openMemoryChannel<string>(0)
      const [, sharedIn] = openSharedChannel<string>(0)
      n.startSoon(producer, sharedSend, 1)
      // @ts-expect-error a memory-channel endpoint cannot cross threads
      n.startSoon(producer, memSend, 1)
      expectTypeOf(n.start(server, sharedIn)).toEqualTypeOf<Promise<string>>()
      // @ts-expect-error a memory-channel endpoint cannot cross threads
      void n.start(server, memIn)
    })
  })

  test('the error names the fix', () => {
    expectTypeOf<ThreadLocalArgument>().toHaveProperty(
      'a memory-channel endpoint cannot cross threads: pass an endpoint of openSharedChannel() instead',
    )
  })
})
