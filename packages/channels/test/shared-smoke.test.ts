import { describe, expect, it } from 'vitest'
import { openNursery, sleep, moveOnAfter } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { openSharedChannel, EndOfChannel, WouldBlock, BrokenResourceError, ClosedResourceError } from '../src/index.js'

describe('shared channel, one thread', () => {
  it('smoke: int32 send/receive FIFO and end', async () => {
    const [tx, rx] = openSharedChannel<number>(4, { codec: 'int32' })
    await tx.send(1)
    tx.sendNowait(2)
    expect(await rx.receive()).toBe(1)
    expect(rx.receiveNowait()).toBe(2)
    expect(() => rx.receiveNowait()).toThrow(WouldBlock)
    tx.close()
    await expect(rx.receive()).rejects.toThrow(EndOfChannel)
    rx.close()
  })
  it('structured values, large values', async () => {
    const [tx, rx] = openSharedChannel<unknown>(2)
    const big = new Uint8Array(100_000).map((_, i) => i & 255)
    const v = { a: 1n, m: new Map([[1, 'x']]), d: new Date(5), big }
    await tx.send(v)
    await tx.send('small')
    expect(await rx.receive()).toEqual(v)
    expect(await rx.receive()).toBe('small')
    expect(() => tx.sendNowait((() => 1) as never)).toThrow(/could not be cloned/)
    rx.close()
    await expect(tx.send(1)).rejects.toThrow(BrokenResourceError)
    tx.close()
    await expect(tx.send(1)).rejects.toThrow(ClosedResourceError)
  })
  it('blocked receive woken by send; blocked send woken by receive', async () => {
    const [tx, rx] = openSharedChannel<number>(1, { codec: 'float64' })
    const got: number[] = []
    await openNursery(async (n) => {
      n.startSoon(async () => {
        for await (const x of rx) got.push(x)
      })
      await waitAllTasksBlocked()
      for (let i = 0; i < 100; i++) await tx.send(i + 0.5)
      tx.close()
    })
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i + 0.5))
  })
  it('rendezvous', async () => {
    const [tx, rx] = openSharedChannel<string>(0)
    expect(() => tx.sendNowait('x')).toThrow(WouldBlock)
    await openNursery(async (n) => {
      n.startSoon(async () => {
        await tx.send('a')
        await tx.send('b')
      })
      await waitAllTasksBlocked()
      expect(tx.statistics().tasksWaitingSend).toBe(1)
      expect(await rx.receive()).toBe('a')
      expect(await rx.receive()).toBe('b')
    })
    // cancelled send delivered nothing
    await moveOnAfter(10, () => tx.send('c'))
    expect(() => rx.receiveNowait()).toThrow(WouldBlock)
    // receiver waiting: sendNowait succeeds
    await openNursery(async (n) => {
      n.startSoon(async () => {
        expect(await rx.receive()).toBe('d')
      })
      await waitAllTasksBlocked()
      tx.sendNowait('d')
    })
    void sleep
  })
})
