/** Bad input to shared channels: each refused with the error the contract names, leaving the channel usable. */
import { describe, expect, it } from 'vitest'
import { kTransfer } from '@gotrio/runtime/lowlevel'
import { BrokenResourceError, ClosedResourceError, WouldBlock, openSharedChannel, type Codec } from '../src/index.js'

describe('shared channel bad input', () => {
  it('capacity validation as for memory channels (Infinity is valid: an unbounded channel)', () => {
    expect(() => openSharedChannel(1.5)).toThrow(TypeError)
    expect(() => openSharedChannel('3' as never)).toThrow(TypeError)
    expect(() => openSharedChannel(NaN)).toThrow(TypeError)
    expect(() => openSharedChannel(-1)).toThrow(RangeError)
    const [tx, rx] = openSharedChannel<number>(Infinity)
    expect(tx.statistics().maxBufferSize).toBe(Infinity)
    tx.close()
    rx.close()
    expect(() => openSharedChannel(2, { codec: 'int64' as never })).toThrow(/options.codec/)
    expect(() => openSharedChannel(2, { maxBufferBytes: 0 })).toThrow(/maxBufferBytes/)
  })

  it('send, receive and receiveMany report every error as a rejection, never as a synchronous throw (they are not async functions)', async () => {
    const [tx, rx] = openSharedChannel<number>(2, { codec: 'int32' })
    const calls: Array<[() => Promise<unknown>, ErrorConstructor]> = [
      [() => tx.send(1.5), TypeError],
      [() => rx.receiveMany(0), RangeError],
      [() => rx.receiveMany(1.5), TypeError],
    ]
    for (const [call, error] of calls) {
      let p: Promise<unknown> | undefined
      expect(() => (p = call())).not.toThrow()
      await expect(p).rejects.toThrow(error)
    }
    // Their fast paths resolve; a later error still rejects.
    await tx.send(1)
    expect(await rx.receiveMany(5)).toEqual([1])
    await tx.send(2)
    expect(await rx.receive()).toBe(2)
    tx.close()
    let p: Promise<unknown> | undefined
    expect(() => (p = tx.send(3))).not.toThrow()
    await expect(p).rejects.toThrow(ClosedResourceError)
    expect(() => (p = rx.receive())).not.toThrow()
    await expect(p).rejects.toThrow(/every send handle/)
    rx.close()
    expect(() => (p = rx.receiveMany(1))).not.toThrow()
    await expect(p).rejects.toThrow(ClosedResourceError)
  })

  it('a value the codec refuses throws at send, writes nothing, and the channel stays usable', async () => {
    const [tx, rx] = openSharedChannel<number>(2, { codec: 'int32' })
    await expect(tx.send(1.5)).rejects.toThrow(TypeError)
    expect(() => tx.sendNowait(2 ** 31)).toThrow(TypeError)
    expect(() => tx.sendNowait('1' as never)).toThrow(TypeError)
    const [utx, urx] = openSharedChannel<number>(2, { codec: 'uint32' })
    expect(() => utx.sendNowait(-1)).toThrow(TypeError)
    utx.sendNowait(2 ** 32 - 1)
    expect(urx.receiveNowait()).toBe(2 ** 32 - 1)
    const [stx, srx] = openSharedChannel<unknown>(2)
    await expect(stx.send(() => 1)).rejects.toMatchObject({ name: 'DataCloneError' })
    expect(() => stx.sendNowait({ f: Symbol('x') })).toThrow(/DataCloneError|could not be cloned/)
    expect(() => srx.receiveNowait()).toThrow(WouldBlock)
    tx.sendNowait(7)
    expect(rx.receiveNowait()).toBe(7)
    expect(tx.statistics().currentBufferUsed).toBe(0)
  })

  it('a user codec: round trip, and its refusal', async () => {
    const codec: Codec<string> = {
      name: 'test-upper',
      encode: (s) => {
        if (typeof s !== 'string') throw new TypeError('test-upper carries strings')
        return new TextEncoder().encode(s.toUpperCase())
      },
      decode: (b) => new TextDecoder().decode(b),
    }
    const [tx, rx] = openSharedChannel<string>(1, { codec })
    await tx.send('abc')
    expect(await rx.receive()).toBe('ABC')
    expect(() => tx.sendNowait(3 as never)).toThrow(TypeError)
    tx.sendNowait('x'.repeat(10_000))
    expect(rx.receiveNowait()).toBe('X'.repeat(10_000))
  })

  it('an endpoint used after it moved throws ClosedResourceError that says it was moved', async () => {
    const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
    const rec = tx[kTransfer]()!
    expect(rec.module).toMatch(/transfer\.(ts|js)$/)
    await expect(tx.send(1)).rejects.toThrow(/moved to another thread/)
    expect(() => tx.clone()).toThrow(ClosedResourceError)
    expect(tx.statistics().openSendChannels).toBe(1) // a move does not change open counts
    const { reviveTransfer } = (await import(rec.module)) as { reviveTransfer(d: unknown): typeof tx }
    const back = reviveTransfer(rec.data)
    back.sendNowait(5)
    expect(rx.receiveNowait()).toBe(5)
    back.close()
    rx.close()
  })

  it('an endpoint inside a value moves; a closed endpoint inside a value is refused and nothing is written', async () => {
    const [otx, orx] = openSharedChannel<unknown>(4)
    const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
    tx.close()
    await expect(otx.send({ reply: tx })).rejects.toThrow(ClosedResourceError)
    expect(() => orx.receiveNowait()).toThrow(WouldBlock)
    // An endpoint of a broken channel (its receivers closed) still moves; the arriving handle reports Broken.
    const [btx, brx] = openSharedChannel<number>(1, { codec: 'int32' })
    brx.close()
    otx.sendNowait([btx])
    expect(() => btx.sendNowait(1)).toThrow(/moved/)
    const [arrived] = orx.receiveNowait() as [typeof btx]
    expect(() => arrived.sendNowait(1)).toThrow(BrokenResourceError)
    arrived.close()
    rx.close()
  })

  it('closing the last receiver closes endpoints still inside dropped values', () => {
    const [otx, orx] = openSharedChannel<unknown>(4)
    const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
    otx.sendNowait({ tx })
    expect(rx.statistics().openSendChannels).toBe(1)
    orx.close()
    expect(rx.statistics().openSendChannels).toBe(0)
    expect(() => rx.receiveNowait()).toThrow(/EndOfChannel|every send handle/)
  })

  it('sendSync/receiveSync on the main thread throw an error that says why and what to use', () => {
    const [tx, rx] = openSharedChannel<number>(1, { codec: 'int32' })
    expect(() => tx.sendSync(1)).toThrow(/main thread.*await send\(\)/)
    expect(() => rx.receiveSync()).toThrow(/main thread.*await receive\(\)/)
    expect(() => [...rx]).toThrow(/main thread/)
  })
})
