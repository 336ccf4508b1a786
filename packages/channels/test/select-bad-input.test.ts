/**
 * Every bad input of API.md "Select": each refused with a TypeError (or, for
 * selectSync on the main thread, receiveSync's Error) that names the rule and
 * the fix, with nothing committed and every channel still usable.
 */
import { describe, expect, it } from 'vitest'
import {
  SelectCase,
  WouldBlock,
  onReceive,
  onSend,
  openMemoryChannel,
  openSharedChannel,
  select,
  selectNowait,
  selectSync,
} from '../src/index.js'

function thrown(f: () => unknown): Error {
  try {
    f()
  } catch (e) {
    return e as Error
  }
  throw new Error('expected a throw')
}

describe('select bad input', () => {
  const [ms, mr] = openMemoryChannel<number>(1)
  const [ss, sr] = openSharedChannel<number>(1, { codec: 'int32' })

  /** Both channels still work, and nothing was committed by the refused call. */
  function stillUsable(): void {
    expect(mr.statistics().currentBufferUsed).toBe(0)
    expect(sr.statistics().currentBufferUsed).toBe(0)
    ms.sendNowait(1)
    expect(mr.receiveNowait()).toBe(1)
    ss.sendNowait(2)
    expect(sr.receiveNowait()).toBe(2)
  }

  it.each([
    ['an object literal', { kind: 0, channel: mr }],
    ['null', null],
    ['a number', 1],
    ['a channel itself', mr],
    ['a promise of a case', Promise.resolve(onReceive(mr))],
  ])('a case not made by onReceive/onSend (%s) is a TypeError naming both', async (_what, bad) => {
    ms.sendNowait(5) // a ready case beside the bad one must not commit
    for (const [name, call] of [
      ['select', () => select(onReceive(mr), bad as never)],
      ['selectNowait', () => Promise.resolve().then(() => selectNowait(onReceive(mr), bad as never))],
    ] as const) {
      const e = await call().then(
        () => undefined,
        (err: unknown) => err as Error,
      )
      expect(e).toBeInstanceOf(TypeError)
      expect(e!.message).toMatch(
        new RegExp(
          `^${name}: argument 1 must be a case made by onReceive\\(channel, \\.\\.\\.\\) or onSend\\(channel, value, \\.\\.\\.\\)`,
        ),
      )
    }
    expect(mr.receiveNowait()).toBe(5)
    stillUsable()
  })

  it('select reports bad input as a rejection, never a synchronous throw', () => {
    let p: Promise<unknown> | undefined
    expect(() => (p = select(42 as never))).not.toThrow()
    return expect(p).rejects.toThrow(TypeError)
  })

  it.each([
    ['undefined', undefined],
    ['a plain object', { receive: async () => 1 }],
    ['a send channel', ms],
    ['a shared send channel', ss],
  ])('onReceive with a channel that is not a gotrio receive channel (%s) is a TypeError of the select', async (_what, ch) => {
    const c = onReceive(ch as never) // not thrown here: select reports it
    const e = thrown(() => selectNowait(c))
    expect(e).toBeInstanceOf(TypeError)
    await expect(select(c)).rejects.toBe(e)
    expect(e.message).toMatch(/^onReceive\(channel\): channel must be a receive channel made by openMemoryChannel or openSharedChannel/)
    if (ch === ms || ch === ss) expect(e.message).toMatch(/use onSend\(channel, value\)/)
    stillUsable()
  })

  it.each([
    ['undefined', undefined],
    ['a receive channel', mr],
    ['a shared receive channel', sr],
  ])('onSend with a channel that is not a gotrio send channel (%s) is a TypeError of the select', async (_what, ch) => {
    const c = onSend(ch as never, 1) // not thrown here: select reports it
    const e = thrown(() => selectNowait(c))
    expect(e).toBeInstanceOf(TypeError)
    await expect(select(c)).rejects.toBe(e)
    expect(e.message).toMatch(/^onSend\(channel, value\): channel must be a send channel made by openMemoryChannel or openSharedChannel/)
    if (ch === mr || ch === sr) expect(e.message).toMatch(/use onReceive\(channel\)/)
    stillUsable()
  })

  it.each([
    ['a string', 'f'],
    ['a number', 1],
    ['null', null],
    ['an object', {}],
  ])('a then or onEnd that is not a function (%s) is a TypeError of the select', async (_what, f) => {
    expect(() => selectNowait(onReceive(mr, f as never))).toThrow(/^onReceive\(channel, then\): then must be a function/)
    expect(() => selectNowait(onReceive(mr, undefined, f as never))).toThrow(/^onReceive\(channel, then, onEnd\): onEnd must be a function/)
    expect(() => selectNowait(onSend(ms, 1, f as never))).toThrow(/^onSend\(channel, value, then\): then must be a function/)
    for (const make of [() => onReceive(mr, f as never), () => onReceive(mr, undefined, f as never), () => onSend(ms, 1, f as never)]) {
      ms.sendNowait(9) // ready cases: still nothing commits
      await expect(select(make())).rejects.toBeInstanceOf(TypeError)
      expect(mr.receiveNowait()).toBe(9)
    }
    stillUsable()
  })

  it('SelectCase cannot be made directly into a usable case by an object with its shape', async () => {
    const fake = Object.create(SelectCase.prototype) as object
    await expect(select(fake as never)).rejects.toThrow(TypeError)
  })

  it('a shared send value the codec refuses is its TypeError at the call; nothing is sent', async () => {
    await expect(select(onSend(ss, 1.5))).rejects.toThrow(TypeError)
    expect(() => selectNowait(onSend(ss, 2 ** 40))).toThrow(TypeError)
    stillUsable()
  })

  it('selectSync on the main thread throws the Error receiveSync throws there (what to use instead)', () => {
    ss.sendNowait(3) // ready: still refused, and not taken
    const e = thrown(() => selectSync(onReceive(sr)))
    const r = thrown(() => sr.receiveSync())
    expect(e.constructor).toBe(r.constructor)
    expect(e.message).toMatch(
      /^selectSync\(\) blocks its thread with Atomics\.wait and would freeze the main thread's event loop; on the main thread use await select\(\)/,
    )
    expect(sr.receiveNowait()).toBe(3)
    stillUsable()
  })

  it('a memory-channel case in selectSync is a TypeError naming select', () => {
    const e = thrown(() => selectSync(onReceive(sr), onReceive(mr)))
    expect(e).toBeInstanceOf(TypeError)
    expect(e.message).toMatch(/^selectSync: case 1 is on a memory channel.*use await select\(\.\.\.\)/)
    stillUsable()
  })

  it('selectNowait with no case throws WouldBlock; bad input stays a TypeError before it', () => {
    expect(() => selectNowait()).toThrow(WouldBlock)
    expect(() => selectNowait(undefined as never)).toThrow(TypeError)
  })
})

describe('select cases are not thenables', () => {
  it('a case returned from an async function arrives as the case; its then callback is not called', async () => {
    const [s, r] = openMemoryChannel<number>(1)
    let called = 0
    const make = async () =>
      onReceive(r, (v) => {
        called++
        return v
      })
    const c = await make()
    expect(c).toBeInstanceOf(SelectCase)
    expect(called).toBe(0)
    s.sendNowait(7)
    expect(await select(c)).toBe(7)
    expect(called).toBe(1)
  })
})
