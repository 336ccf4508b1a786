/** The structured codec gives structured clone's result, through the fast encoding or v8's. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { openNursery, run } from '@gotrio/runtime'
import { openSharedChannel, type Codec } from '../src/index.js'
import { fastDecode, fastEncode } from '../src/shared/fast-structured.js'

describe('structured codec', () => {
  it('round-trips like structuredClone (property test over JSON-like values and more)', () => {
    const [tx, rx] = openSharedChannel<unknown>(1)
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.anything({
            withBigInt: true,
            withDate: true,
            withMap: true,
            withSet: true,
            withTypedArray: true,
            withNullPrototype: true,
            withSparseArray: true,
          }),
        ),
        (v) => {
          tx.sendNowait(v)
          expect(rx.receiveNowait()).toStrictEqual(structuredClone(v))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('the fast encoding declines what it cannot carry exactly', () => {
    for (const v of [1n, new Date(0), new Map(), new Uint8Array(1), [, 1], Object.assign([1], { x: 1 }), new (class A {})()]) {
      expect(fastEncode(v)).toBeUndefined()
    }
    const o = JSON.parse('{"__proto__": 1, "a": [1, -0, 1.5, "é", "😀", null, true]}') as unknown
    expect(fastDecode(fastEncode(o)!)).toStrictEqual(structuredClone(o))
  })

  it('a getter that sends while its object is being encoded: both values arrive intact, in the order their sends completed', async () => {
    const [tx, rx] = openSharedChannel<unknown>(4)
    const inner = { tag: 'sent by the getter', n: [1, 2, 3] }
    const outer = {
      before: 'x'.repeat(10),
      get a(): number {
        tx.sendNowait(inner) // encodes while the outer value's encode is half done
        return 7
      },
      after: [true, null],
    }
    tx.sendNowait(outer)
    expect(rx.receiveNowait()).toStrictEqual(inner)
    expect(rx.receiveNowait()).toStrictEqual({ before: 'x'.repeat(10), a: 7, after: [true, null] })
    // And through await send (the scratch path of the lock-free buffer).
    await tx.send(outer)
    expect(rx.receiveNowait()).toStrictEqual(inner)
    expect(rx.receiveNowait()).toStrictEqual({ before: 'x'.repeat(10), a: 7, after: [true, null] })
    tx.close()
    rx.close()
  })

  it("a user codec gets exactly its value's bytes back, also when they begin with the structured codec's fast tag (0xF1)", async () => {
    // A tag byte, then the string's UTF-8; the decode refuses any other length.
    const codec: Codec<string> = {
      name: 'tagged',
      encode: (s) => Uint8Array.of(0xf1, ...new TextEncoder().encode(s)),
      decode: (b) => {
        if (b[0] !== 0xf1) throw new Error('lost the tag')
        return new TextDecoder().decode(b.subarray(1))
      },
    }
    for (const size of [0, 1, 4]) {
      const [tx, rx] = openSharedChannel<string>(size, { codec })
      const values = ['', 'a', 'hello', 'é'.repeat(20), 'x'.repeat(40), 'y'.repeat(300)]
      await run(() =>
        openNursery(async (nursery) => {
          nursery.startSoon(async () => {
            for (const v of values) await tx.send(v)
            tx.close()
          })
          const got: string[] = []
          for await (const v of rx) got.push(v)
          expect(got).toEqual(values)
        }),
      )
      rx.close()
    }
  })
})
