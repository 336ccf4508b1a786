/**
 * NATS channels against a real nats-server: the API.md bullets in one process
 * first (smoke → capacity → nowait → close → cancellation), then bad input.
 */
import { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } from '@gotrio/channels'
import { moveOnAfter, openNursery, run, workerTask, type CancelScope } from '@gotrio/runtime'
import { describe, expect, it } from 'vitest'
import {
  attachNatsChannel,
  ConnectionLostError,
  deleteNatsChannel,
  openNatsChannel,
  registerNatsCodec,
  type NatsConnection,
} from '../src/index.js'
import { uniqueName, useNatsServer } from './helpers.js'

const srv = useNatsServer()
// Long enough that a loaded machine never lets a live handle's lease lapse (no test here waits for a lapse).
const LEASE = 5000
const N = Number(process.env.GOTRIO_STRESS ?? 1) * 100

/** Runs fn under a deadline of `ms`; true if the deadline cancelled it. */
async function cancelledAfter(ms: number, fn: () => Promise<unknown>): Promise<boolean> {
  let scope: CancelScope | undefined
  await moveOnAfter(ms, async (s) => {
    scope = s
    await fn()
  })
  return scope!.cancelledCaught
}

async function drain<T>(rx: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const v of rx) out.push(v)
  return out
}

describe('NATS channels, one process', () => {
  it("delivers one sender's values in order and ends with EndOfChannel once the sender closes", async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 8, leaseMs: LEASE })
    const got = await openNursery(async (n) => {
      n.startSoon(async () => {
        for (let i = 0; i < N; i++) await tx.send(i)
        await tx.aclose()
      })
      return drain(rx)
    })
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i))
    await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel)
    await rx.aclose()
  })

  it('carries structured values (Map, BigInt, Date) and json', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<unknown>(nc, uniqueName(), { maxBufferSize: 4, leaseMs: LEASE })
    const v = { m: new Map([[1, 'a']]), b: 10n ** 20n, d: new Date(5) }
    await tx.send(v)
    expect(await rx.receive()).toEqual(v)
    const [jt, jr] = await openNatsChannel<{ a: number[] }>(nc, uniqueName(), { maxBufferSize: 4, codec: 'json', leaseMs: LEASE })
    await jt.send({ a: [1, 2] })
    expect(await jr.receive()).toEqual({ a: [1, 2] })
    await expect(jt.send((() => 1) as unknown as { a: number[] })).rejects.toBeInstanceOf(TypeError)
    for (const h of [tx, rx, jt, jr]) await h.aclose()
  })

  it('a user codec is looked up by name when attaching', async () => {
    const nc = await srv.conn()
    const codec = { name: 'u8-test', encode: (v: number) => Uint8Array.of(v), decode: (b: Uint8Array) => b[0]! }
    const name = uniqueName()
    const [tx, rx] = await openNatsChannel<number>(nc, name, { maxBufferSize: 2, codec, leaseMs: LEASE })
    registerNatsCodec(codec)
    const tx2 = await attachNatsChannel<number>(await srv.conn(), name, 'send')
    await tx2.send(200)
    expect(await rx.receive()).toBe(200)
    for (const h of [tx, tx2, rx]) await h.aclose()
  })

  it('backpressure: a full channel makes send wait, and a send cancelled while waiting delivered nothing', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 2, leaseMs: LEASE })
    await tx.send(1)
    await tx.send(2)
    expect(await cancelledAfter(300, () => tx.send(3))).toBe(true)
    expect(await rx.receive()).toBe(1)
    await tx.send(4) // room for one again
    expect(await rx.receive()).toBe(2)
    expect(await rx.receive()).toBe(4)
    expect(rx.statistics().maxBufferSize).toBe(2)
    await tx.aclose()
    await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel)
    await rx.aclose()
  })

  it('size 0: send waits for a receiver; a cancelled send delivered nothing', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<string>(nc, uniqueName(), { leaseMs: LEASE })
    expect(tx.statistics().maxBufferSize).toBe(0)
    expect(await cancelledAfter(300, () => tx.send('lost'))).toBe(true)
    const order: string[] = []
    await openNursery(async (n) => {
      n.startSoon(async () => {
        await tx.send('a')
        order.push('sent a')
      })
      n.startSoon(async () => {
        order.push('receive ' + (await rx.receive()))
      })
    })
    expect(order.sort()).toEqual(['receive a', 'sent a'])
    await tx.aclose()
    await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel)
    await rx.aclose()
  })

  it('a cancelled receive lost nothing: the next receive gets the value', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 1, leaseMs: LEASE })
    expect(await cancelledAfter(200, () => rx.receive())).toBe(true)
    await tx.send(7)
    expect(await rx.receive()).toBe(7)
    await tx.aclose()
    await rx.aclose()
  })

  it('receiveMany takes 1..max values in order; nowait forms throw WouldBlock when nothing is held', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 50, leaseMs: LEASE })
    expect(() => rx.receiveNowait()).toThrow(WouldBlock)
    expect(() => rx.receiveManyNowait(3)).toThrow(WouldBlock)
    for (let i = 0; i < 20; i++) await tx.send(i)
    await tx.aclose()
    const got: number[] = []
    for (;;) {
      let batch: number[]
      try {
        batch = await rx.receiveMany(7)
      } catch (e) {
        expect(e).toBeInstanceOf(EndOfChannel)
        break
      }
      expect(batch.length).toBeGreaterThanOrEqual(1)
      expect(batch.length).toBeLessThanOrEqual(7)
      got.push(...batch)
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(() => rx.receiveManyNowait(1)).toThrow(EndOfChannel)
    await rx.aclose()
  })

  it('sendNowait uses the credit of the snapshot, then throws WouldBlock; unbounded channels always take', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 3, leaseMs: LEASE })
    tx.sendNowait(1)
    tx.sendNowait(2)
    tx.sendNowait(3)
    expect(() => tx.sendNowait(4)).toThrow(WouldBlock)
    expect(await rx.receiveMany(10)).toEqual(expect.arrayContaining([1]))
    await tx.aclose() // waits until the queued values are stored
    const rest = await drain(rx)
    expect(rest.length).toBeLessThanOrEqual(2)
    const [ut, ur] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: Infinity, leaseMs: LEASE })
    for (let i = 0; i < 100; i++) ut.sendNowait(i)
    await ut.aclose()
    expect(await drain(ur)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(ur.statistics().maxBufferSize).toBe(Infinity)
    await rx.aclose()
    await ur.aclose()
  })

  it('size 0: sendNowait hands off only while a receiver is known to wait', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { leaseMs: LEASE })
    expect(() => tx.sendNowait(1)).toThrow(WouldBlock)
    const receiving = rx.receive()
    // The receiver announces that it waits (a notice); poll sendNowait until this handle has seen it.
    for (;;) {
      try {
        tx.sendNowait(5)
        break
      } catch (e) {
        expect(e).toBeInstanceOf(WouldBlock)
        await new Promise((r) => setImmediate(r))
      }
    }
    expect(await receiving).toBe(5)
    await tx.aclose()
    await rx.aclose()
  })

  it('an endpoint passed to a local worker task moves to its thread and keeps its place in the counts', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 4, leaseMs: LEASE })
    const produce = workerTask<typeof import('./fixtures/tasks.js').produce>(new URL('./fixtures/tasks.ts', import.meta.url), 'produce')
    const got: number[] = []
    await run(async () => {
      await openNursery(async (n) => {
        n.startSoon(produce, tx, 10)
        for await (const v of rx) got.push(v)
      })
    })
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(() => tx.sendNowait(1)).toThrow(/moved/)
    await rx.aclose()
  })

  it('clone and attach count like clones: EndOfChannel only after every sender closed', async () => {
    const nc = await srv.conn()
    const name = uniqueName()
    const [tx, rx] = await openNatsChannel<number>(nc, name, { maxBufferSize: 10, leaseMs: LEASE })
    const tx2 = tx.clone()
    const tx3 = await attachNatsChannel<number>(await srv.conn(), name, 'send')
    await tx.aclose()
    await tx2.send(2)
    await tx2.aclose()
    await tx3.send(3)
    expect(await rx.receive()).toBe(2)
    expect(await rx.receive()).toBe(3)
    await tx3.aclose()
    await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel)
    expect(rx.statistics().openSendChannels).toBe(0)
    await expect(attachNatsChannel(nc, name, 'send')).rejects.toThrow(/already closed/)
    await rx.aclose()
  })

  it('closing every receiver breaks the senders (BrokenResourceError) and drops the buffer', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 5, leaseMs: LEASE })
    await tx.send(1)
    const rx2 = rx.clone()
    await rx.aclose()
    await tx.send(2)
    await rx2.aclose()
    await expect(tx.send(3)).rejects.toBeInstanceOf(BrokenResourceError)
    expect(() => tx.sendNowait(3)).toThrow(BrokenResourceError)
    expect(tx.statistics().currentBufferUsed).toBe(0)
    await tx.aclose()
  })

  it('a closed handle throws ClosedResourceError; close is idempotent; a receive waiting on a closed handle ends', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 1, leaseMs: LEASE })
    const rx2 = rx.clone()
    const waiting = rx2.receive()
    rx2.close()
    rx2.close()
    await expect(waiting).rejects.toBeInstanceOf(ClosedResourceError)
    await expect(rx2.receive()).rejects.toBeInstanceOf(ClosedResourceError)
    tx.close()
    await expect(tx.send(1)).rejects.toBeInstanceOf(ClosedResourceError)
    expect(() => tx.sendNowait(1)).toThrow(ClosedResourceError)
    expect(() => tx.clone()).toThrow(ClosedResourceError)
    await tx.aclose()
    await rx.aclose()
  })

  it('a connection closed under a waiting receive and send rejects them with ConnectionLostError', async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 1, leaseMs: LEASE })
    await tx.send(1)
    const sending = tx.send(2) // the channel is full: it waits
    const nc2 = await srv.conn()
    const rx2 = await attachNatsChannel<number>(nc2, rx.link.name, 'receive')
    const [tx3] = await openNatsChannel<number>(nc2, uniqueName(), { maxBufferSize: 1, leaseMs: LEASE })
    void tx3
    await nc.close()
    await expect(sending).rejects.toBeInstanceOf(ConnectionLostError)
    await expect(rx.receive()).rejects.toBeInstanceOf(ConnectionLostError)
    expect(await rx2.receive()).toBe(1) // what the server acknowledged is kept
    await rx2.aclose()
  })

  it('open of an existing name, attach of an unknown one, and delete', async () => {
    const nc: NatsConnection = await srv.conn()
    const name = uniqueName()
    const [tx, rx] = await openNatsChannel(nc, name, { leaseMs: LEASE })
    await expect(openNatsChannel(nc, name)).rejects.toThrow(/already exists: use attachNatsChannel/)
    await expect(attachNatsChannel(nc, uniqueName(), 'receive')).rejects.toThrow(/does not exist.*openNatsChannel/)
    await tx.aclose()
    await rx.aclose()
    await deleteNatsChannel(nc, name)
    await expect(attachNatsChannel(nc, name, 'receive')).rejects.toThrow(/does not exist/)
    await expect(deleteNatsChannel(nc, name)).rejects.toThrow(/does not exist/)
    const [t2, r2] = await openNatsChannel<number>(nc, name, { maxBufferSize: 1, leaseMs: LEASE })
    await t2.send(1)
    expect(await r2.receive()).toBe(1)
    // Deleted under open handles: here and in another process's link, operations fail and say why.
    const elsewhere = await attachNatsChannel<number>(await srv.conn(), name, 'receive')
    const waiting = elsewhere.receive()
    await deleteNatsChannel(nc, name)
    await expect(r2.receive()).rejects.toThrow(/was deleted/)
    await expect(t2.send(2)).rejects.toThrow(/was deleted/)
    await expect(waiting).rejects.toThrow(/was deleted/)
    await t2.aclose()
    await r2.aclose()
    await elsewhere.aclose()
  })

  it('bad input gets errors that name the rule, and leaves the connection usable', async () => {
    const nc = await srv.conn()
    await expect(openNatsChannel(nc, 'a.b')).rejects.toThrow(/letters, digits/)
    await expect(openNatsChannel(nc, '')).rejects.toBeInstanceOf(TypeError)
    await expect(openNatsChannel({} as NatsConnection, 'x')).rejects.toThrow(/NatsConnection/)
    await expect(openNatsChannel(nc, 'x', { maxBufferSize: -1 })).rejects.toBeInstanceOf(RangeError)
    await expect(openNatsChannel(nc, 'x', { maxBufferSize: 1.5 })).rejects.toBeInstanceOf(TypeError)
    await expect(openNatsChannel(nc, 'x', { leaseMs: 10 })).rejects.toThrow(/leaseMs/)
    await expect(openNatsChannel(nc, 'x', { codec: 'int32' as 'json' })).rejects.toThrow(/codec/)
    await expect(openNatsChannel(nc, 'x', { bogus: 1 } as object)).rejects.toThrow(/unknown option "bogus"/)
    await expect(attachNatsChannel(nc, 'x', 'both' as 'send')).rejects.toThrow(/side/)
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 1, leaseMs: LEASE })
    await expect(rx.receiveMany(0)).rejects.toBeInstanceOf(RangeError)
    await expect(rx.receiveMany(1.5)).rejects.toBeInstanceOf(TypeError)
    await tx.send(1)
    expect(await rx.receive()).toBe(1)
    await tx.aclose()
    await rx.aclose()
  })
})
