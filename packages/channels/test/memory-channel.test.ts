/**
 * Memory channels: the shared channel contract (contract.ts, Trio's
 * test_channel.py) plus what is specific to memory channels: argument
 * validation, the transfer protocol, internal invariants under random
 * operation sequences, timer fairness and deadlock diagnostics.
 */
import { dumpTasks, openNursery, run, runInWorker, workerTask } from '@gotrio/runtime'
import { kTransfer, waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ClosedResourceError, EndOfChannel, WouldBlock } from '../src/errors.js'
import { MemoryReceiveChannel, MemorySendChannel, openMemoryChannel } from '../src/index.js'
import { channelContract } from './contract.js'

channelContract('memory', openMemoryChannel)

describe('openMemoryChannel arguments (trio test_channel)', () => {
  it.each([
    [1.5, /maxBufferSize must be a non-negative integer or Infinity, got 1.5/],
    [NaN, /maxBufferSize must be a non-negative integer or Infinity, got NaN/],
    ['3', /maxBufferSize must be a non-negative integer or Infinity, got '3'/],
    [-Infinity, /got -Infinity/],
  ])('%s is a TypeError', (n, message) => {
    expect(() => openMemoryChannel(n as number)).toThrow(TypeError)
    expect(() => openMemoryChannel(n as number)).toThrow(message)
    expect(() => openMemoryChannel(n as number)).toThrow(/^openMemoryChannel\(maxBufferSize\)/)
  })

  it('-1 is a RangeError', () => {
    expect(() => openMemoryChannel(-1)).toThrow(RangeError)
    expect(() => openMemoryChannel(-1)).toThrow(
      'openMemoryChannel(maxBufferSize): maxBufferSize must be a non-negative integer or Infinity, got -1',
    )
  })

  it('returns a [MemorySendChannel, MemoryReceiveChannel] pair; clones are the same classes', () => {
    const [s, r] = openMemoryChannel<number>(0)
    expect(s).toBeInstanceOf(MemorySendChannel)
    expect(r).toBeInstanceOf(MemoryReceiveChannel)
    expect(s.clone()).toBeInstanceOf(MemorySendChannel)
    expect(r.clone()).toBeInstanceOf(MemoryReceiveChannel)
  })
})

describe('memory channels stay in their thread', () => {
  it('both endpoints refuse the transfer protocol with a TypeError naming openSharedChannel', () => {
    const [s, r] = openMemoryChannel<number>(1)
    for (const e of [s, r]) {
      expect(() => e[kTransfer]()).toThrow(TypeError)
      expect(() => e[kTransfer]()).toThrow(/memory channel endpoint .* cannot cross threads.*openSharedChannel/)
    }
    // The refusal gives nothing up: the handles still work.
    s.sendNowait(1)
    expect(r.receiveNowait()).toBe(1)
  })

  it('given to a worker task, an endpoint is a TypeError naming openSharedChannel, and stays usable', async () => {
    // Any worker task will do: the arguments are checked before anything runs.
    const task = workerTask<(a: unknown, b: number) => number>(
      new URL('../../runtime/test/fixtures/worker-tasks.ts', import.meta.url),
      'add',
    )
    const [s, r] = openMemoryChannel<number>(1)
    await run(async () => {
      // The compiler refuses these too (worker-args.test-d.ts); the runtime check is for code it does not see.
      // @ts-expect-error a memory-channel endpoint cannot cross threads
      await expect(runInWorker(task, s, 1)).rejects.toThrow(/cannot cross threads.*openSharedChannel/)
      // @ts-expect-error a memory-channel endpoint cannot cross threads
      await expect(runInWorker(task, [1, { ch: r }], 1)).rejects.toBeInstanceOf(TypeError)
    })
    s.sendNowait(3)
    expect(r.receiveNowait()).toBe(3)
  })
})

describe('memory channel engine', () => {
  type Op =
    | { kind: 'send'; h: number; v: number }
    | { kind: 'receive'; h: number }
    | { kind: 'cloneSend'; h: number }
    | { kind: 'cloneReceive'; h: number }
    | { kind: 'closeSend'; h: number }
    | { kind: 'closeReceive'; h: number }
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), h: fc.nat(3), v: fc.integer() }) },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('receive' as const), h: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cloneSend' as const), h: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cloneReceive' as const), h: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('closeSend' as const), h: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('closeReceive' as const), h: fc.nat(3) }) },
  )

  it('nowait operations match a FIFO model and keep the invariants (random sequences)', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2, 5, Infinity), fc.array(op, { maxLength: 80 }), (size, ops) => {
        const [s0, r0] = openMemoryChannel<number>(size)
        const sends: { h: MemorySendChannel<number>; open: boolean }[] = [{ h: s0, open: true }]
        const receives: { h: MemoryReceiveChannel<number>; open: boolean }[] = [{ h: r0, open: true }]
        const model: number[] = []
        const errorOf = (f: () => unknown): unknown => {
          try {
            return f()
          } catch (e) {
            return e
          }
        }
        for (const o of ops) {
          const sh = sends[o.h % sends.length]!
          const rh = receives[o.h % receives.length]!
          const openSends = sends.filter((x) => x.open).length
          const openReceives = receives.filter((x) => x.open).length
          switch (o.kind) {
            case 'send': {
              const got = errorOf(() => sh.h.sendNowait(o.v))
              if (!sh.open) expect(got).toBeInstanceOf(ClosedResourceError)
              else if (openReceives === 0) expect((got as Error).name).toBe('BrokenResourceError')
              else if (model.length >= size) expect(got).toBeInstanceOf(WouldBlock)
              else {
                expect(got).toBeUndefined()
                model.push(o.v)
              }
              break
            }
            case 'receive': {
              const got = errorOf(() => rh.h.receiveNowait())
              if (!rh.open) expect(got).toBeInstanceOf(ClosedResourceError)
              else if (model.length > 0) expect(got).toBe(model.shift())
              else if (openSends === 0) expect(got).toBeInstanceOf(EndOfChannel)
              else expect(got).toBeInstanceOf(WouldBlock)
              break
            }
            case 'cloneSend':
              if (sh.open) sends.push({ h: sh.h.clone(), open: true })
              else expect(() => sh.h.clone()).toThrow(ClosedResourceError)
              break
            case 'cloneReceive':
              if (rh.open) receives.push({ h: rh.h.clone(), open: true })
              else expect(() => rh.h.clone()).toThrow(ClosedResourceError)
              break
            case 'closeSend':
              sh.h.close()
              sh.open = false
              break
            case 'closeReceive':
              rh.h.close()
              rh.open = false
              if (receives.every((x) => !x.open)) model.length = 0 // the last receiver drops the buffer
              break
          }
          s0._checkInvariants()
          expect(s0.statistics()).toMatchObject({
            currentBufferUsed: model.length,
            openSendChannels: sends.filter((x) => x.open).length,
            openReceiveChannels: receives.filter((x) => x.open).length,
            tasksWaitingSend: 0,
            tasksWaitingReceive: 0,
          })
        }
      }),
      { numRuns: 300 },
    )
  })

  it('keeps the invariants while tasks wait, are woken and are cancelled', async () => {
    const [s, r] = openMemoryChannel<number>(2)
    await openNursery(async (n) => {
      for (let i = 0; i < 4; i++) n.startSoon(async () => s.send(i))
      await waitAllTasksBlocked()
      s._checkInvariants()
      expect(s.statistics()).toMatchObject({ currentBufferUsed: 2, tasksWaitingSend: 2 })
      expect(r.receiveNowait()).toBe(0)
      s._checkInvariants()
      n.cancelScope.cancel()
    })
    s._checkInvariants()
    expect(s.statistics()).toMatchObject({ currentBufferUsed: 2, tasksWaitingSend: 0 })
  })

  it('a loop that never waits still lets timers run (fast paths yield a macrotask now and then)', async () => {
    const [s, r] = openMemoryChannel<number>(1)
    let fired = false
    setTimeout(() => (fired = true), 1)
    let n = 0
    while (!fired) {
      await s.send(n++) // never waits: the buffer has room
      await r.receive() // never waits: the value is there
    }
    expect(n).toBeGreaterThan(0)
  })

  it('waiting operations are named in diagnostics (dumpTasks, DeadlockError)', async () => {
    // run()'s DeadlockError needs the process to go idle (beforeExit), which never
    // happens inside vitest; dumpTasks() lists the same waiting operations.
    const [s, r] = openMemoryChannel<number>(0)
    await openNursery(async (n) => {
      n.startSoon(async function consumer() {
        await expect(r.receive()).rejects.toBeInstanceOf(EndOfChannel)
      })
      n.startSoon(async function iterator() {
        for await (const _ of r.clone()) throw new Error('unreachable')
      })
      await waitAllTasksBlocked()
      const dump = dumpTasks()
      expect(dump).toContain('consumer: MemoryReceiveChannel.receive')
      expect(dump).toContain('iterator: MemoryReceiveChannel[Symbol.asyncIterator]().next')
      s.close()
    })
  })
})
