/**
 * Soak for shared channels (`pnpm test:stress`, sized by GOTRIO_STRESS):
 * 4 worker producers × 4 worker consumers at several capacities, every mix
 * of sync and async ends; exact count and sum.
 */
import { describe, expect, it } from 'vitest'
import { openSharedChannel } from '../src/index.js'
import { runWorker } from './fixtures/run-worker.js'

const STRESS = Number(process.env.GOTRIO_STRESS ?? 10)

describe('shared channel soak', () => {
  for (const cap of [0, 1, 3, 64, Infinity])
    for (const [p, c] of [
      ['produceSync', 'consumeSync'],
      ['produceAsync', 'consumeAsync'],
      ['produceSync', 'consumeAsync'],
      ['produceAsync', 'consumeSync'],
    ] as const) {
      it(`capacity ${cap}, ${p} x4 -> ${c} x4: each value exactly once`, async () => {
        const [tx, rx] = openSharedChannel<number>(cap, { codec: 'int32' })
        const per = 2000 * STRESS
        const producers = [0, 1, 2, 3].map((k) => runWorker(p, tx.clone(), k * per, per))
        const consumers = [0, 1, 2, 3].map(() => runWorker<[number, number]>(c, rx.clone()))
        tx.close()
        rx.close()
        await Promise.all(producers)
        const res = await Promise.all(consumers)
        const n = 4 * per
        expect(res.reduce((s, r) => s + r[0], 0)).toBe(n)
        expect(res.reduce((s, r) => s + r[1], 0)).toBe((n * (n - 1)) / 2)
      })
    }
})
