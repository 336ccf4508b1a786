/** Type-level tests of the public channel types (vitest typecheck). */
import { describe, expectTypeOf, it } from 'vitest'
import {
  MemoryReceiveChannel,
  MemorySendChannel,
  openMemoryChannel,
  type ChannelStatistics,
  type ReceiveChannel,
  type SendChannel,
} from '../src/index.js'

describe('openMemoryChannel', () => {
  it('returns a [send, receive] tuple of memory handles', () => {
    expectTypeOf(openMemoryChannel<number>).returns.toEqualTypeOf<[MemorySendChannel<number>, MemoryReceiveChannel<number>]>()
    expectTypeOf(openMemoryChannel<string>).parameters.toEqualTypeOf<[maxBufferSize: number]>()
    const [s, r] = openMemoryChannel<string>(0)
    expectTypeOf(s).toEqualTypeOf<MemorySendChannel<string>>()
    expectTypeOf(r).toEqualTypeOf<MemoryReceiveChannel<string>>()
  })

  it('memory handles are SendChannel / ReceiveChannel, disposable and iterable', () => {
    expectTypeOf<MemorySendChannel<number>>().toMatchTypeOf<SendChannel<number>>()
    expectTypeOf<MemoryReceiveChannel<number>>().toMatchTypeOf<ReceiveChannel<number>>()
    expectTypeOf<MemorySendChannel<number>>().toMatchTypeOf<Disposable & AsyncDisposable>()
    expectTypeOf<MemoryReceiveChannel<number>>().toMatchTypeOf<Disposable & AsyncDisposable & AsyncIterable<number>>()
  })
})

describe('SendChannel<T>', () => {
  it('send takes a T and resolves void; sendNowait is synchronous', () => {
    const [s] = openMemoryChannel<number>(1)
    expectTypeOf(s.send).parameters.toEqualTypeOf<[value: number]>()
    expectTypeOf(s.send).returns.toEqualTypeOf<Promise<void>>()
    expectTypeOf(s.sendNowait).returns.toEqualTypeOf<void>()
    expectTypeOf(s.close).returns.toEqualTypeOf<void>()
    expectTypeOf(s.aclose).returns.toEqualTypeOf<Promise<void>>()
    expectTypeOf(s.clone()).toEqualTypeOf<MemorySendChannel<number>>()
    // @ts-expect-error a string is not a number
    void s.send('x')
  })
})

describe('ReceiveChannel<T>', () => {
  it('receive resolves a T; receiveNowait returns a T; iteration yields T', async () => {
    const [, r] = openMemoryChannel<{ id: number }>(1)
    expectTypeOf(r.receive).returns.toEqualTypeOf<Promise<{ id: number }>>()
    expectTypeOf(r.receiveNowait).returns.toEqualTypeOf<{ id: number }>()
    expectTypeOf(r.clone()).toEqualTypeOf<MemoryReceiveChannel<{ id: number }>>()
    expectTypeOf(r).toMatchTypeOf<AsyncIterable<{ id: number }>>()
    for await (const v of r) expectTypeOf(v).toEqualTypeOf<{ id: number }>()
  })

  it('the interface types carry T the same way', () => {
    expectTypeOf<ReceiveChannel<number>['receive']>().returns.toEqualTypeOf<Promise<number>>()
    expectTypeOf<SendChannel<number>['send']>().parameters.toEqualTypeOf<[value: number]>()
    expectTypeOf<ReceiveChannel<number>['clone']>().returns.toEqualTypeOf<ReceiveChannel<number>>()
    expectTypeOf<ReceiveChannel<number>['receiveMany']>().returns.toEqualTypeOf<Promise<number[]>>()
    expectTypeOf<ReceiveChannel<number>['receiveManyNowait']>().returns.toEqualTypeOf<number[]>()
    expectTypeOf<ReceiveChannel<number>['receiveMany']>().parameters.toEqualTypeOf<[max: number]>()
  })
})

describe('ChannelStatistics', () => {
  it('has the seven numeric fields', () => {
    expectTypeOf<ChannelStatistics>().toEqualTypeOf<{
      currentBufferUsed: number
      maxBufferSize: number
      openSendChannels: number
      openReceiveChannels: number
      tasksWaitingSend: number
      tasksWaitingReceive: number
      peakBufferUsed: number
    }>()
    const [s, r] = openMemoryChannel<number>(0)
    expectTypeOf(s.statistics()).toEqualTypeOf<ChannelStatistics>()
    expectTypeOf(r.statistics()).toEqualTypeOf<ChannelStatistics>()
  })
})
