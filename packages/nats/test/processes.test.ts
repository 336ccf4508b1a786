/**
 * NATS channels across real processes: several senders and receivers with
 * exact totals, a SIGKILLed sender's lease lapsing, a dead receiver's fetched
 * value going to another receiver, and a server restart mid-stream.
 */
import { EndOfChannel } from '@gotrio/channels'
import { describe, expect, it } from 'vitest'
import { attachNatsChannel, openNatsChannel } from '../src/index.js'
import { child, uniqueName, useNatsServer } from './helpers.js'

const srv = useNatsServer()
// Live handles keep LEASE (a loaded machine must not let them lapse); the tests that wait for a
// dead process's lease to lapse (or for ack_wait, which is the lease) use SHORT.
const LEASE = 5000
const SHORT = 2000
const K = Number(process.env.GOTRIO_STRESS ?? 1) * 60

type Item = { from: string; i: number }

function expectInOrderPerSender(got: Record<string, number[]>): void {
  for (const seq of Object.values(got)) for (let j = 1; j < seq.length; j++) expect(seq[j]).toBeGreaterThan(seq[j - 1]!)
}

describe('NATS channels across processes', () => {
  it('3 sender processes and 2 receiver processes plus this one: every value exactly once, per-sender order', async () => {
    const nc = await srv.conn()
    const name = uniqueName()
    const [tx, rx] = await openNatsChannel<Item>(nc, name, { maxBufferSize: 16, leaseMs: LEASE })
    const receivers = [child('receiver', srv.server.url, name), child('receiver', srv.server.url, name)]
    await Promise.all(receivers.map((r) => r.line('attached')))
    const senders = ['a', 'b', 'c'].map((id) => child('sender', srv.server.url, name, id, String(K)))
    await Promise.all(senders.map((s) => s.line('attached')))
    await tx.aclose() // the children's handles keep the send side open
    const mine: Record<string, number[]> = {}
    for await (const v of rx) (mine[v.from] ??= []).push(v.i)
    const theirs = await Promise.all(receivers.map(async (r) => JSON.parse(await r.line('done')) as Record<string, number[]>))
    const all: Record<string, number[]> = {}
    for (const part of [mine, ...theirs]) {
      expectInOrderPerSender(part)
      for (const [k, v] of Object.entries(part)) (all[k] ??= []).push(...v)
    }
    for (const id of ['a', 'b', 'c']) expect(all[id]!.sort((x, y) => x - y)).toEqual(Array.from({ length: K }, (_, i) => i))
    await Promise.all([...senders, ...receivers].map((c) => c.exited))
    await rx.aclose()
  })

  it("a SIGKILLed sender's handle lapses after leaseMs: receivers see EndOfChannel instead of hanging", async () => {
    const nc = await srv.conn()
    const name = uniqueName()
    const [tx, rx] = await openNatsChannel<Item>(nc, name, { maxBufferSize: 10, leaseMs: SHORT })
    const s = child('sender', srv.server.url, name, 'k', '3', 'hang')
    await s.line('ready')
    await tx.aclose()
    s.kill('SIGKILL')
    const got: number[] = []
    for await (const v of rx) got.push(v.i)
    expect(got).toEqual([0, 1, 2])
    await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel)
    expect(rx.statistics().openSendChannels).toBe(0)
    await rx.aclose()
  })

  it('a value fetched by a receiver that dies before taking it is redelivered to another receiver', async () => {
    const nc = await srv.conn()
    const name = uniqueName()
    const [tx, rx] = await openNatsChannel<Item>(nc, name, { maxBufferSize: 4, leaseMs: SHORT })
    const f = child('fetcher', srv.server.url, name)
    await tx.send({ from: 'x', i: 42 })
    expect(JSON.parse(await f.line('fetched'))).toEqual({ from: 'x', i: 42 })
    f.kill('SIGKILL')
    await f.exited
    expect(await rx.receive()).toEqual({ from: 'x', i: 42 })
    await tx.aclose()
    await rx.aclose()
  })

  it('the server restarted mid-stream (SIGTERM, same storage): nothing acknowledged is lost, nothing duplicated', async () => {
    const nc = await srv.conn()
    const name = uniqueName()
    const [tx, rx] = await openNatsChannel<number>(nc, name, { maxBufferSize: Infinity, leaseMs: 3000 })
    const total = 2 * K
    const got: number[] = []
    const receiving = (async () => {
      for await (const v of rx) got.push(v)
    })()
    for (let i = 0; i < total; i++) {
      if (i === K) {
        await srv.server.stop()
        await srv.server.restart()
      }
      await tx.send(i)
    }
    await tx.aclose()
    await receiving
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i))
    await rx.aclose()
  })

  it('attaching from another process sees the same open counts', async () => {
    const nc = await srv.conn()
    const name = uniqueName()
    const [tx, rx] = await openNatsChannel<Item>(nc, name, { maxBufferSize: 2, leaseMs: LEASE })
    const other = await attachNatsChannel<Item>(await srv.conn(), name, 'receive')
    expect(other.statistics().openReceiveChannels).toBe(2)
    expect(other.statistics().openSendChannels).toBe(1)
    for (const h of [tx, rx, other]) await h.aclose()
  })
})
