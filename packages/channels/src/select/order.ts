/**
 * The random orders of `select` (Go's pollorder): a uniformly random
 * permutation drawn as it is walked, and the choice of the size-0 send case a
 * waiting select offers (select/shared.ts "Offers").
 */
import * as __case from './case.ts'
import type { SelectCase } from './case.ts'
import type { SharedReceiveChannel } from '../shared/receive-channel.ts'
import type { SharedSendChannel } from '../shared/send-channel.ts'
// Local bindings (see the note in shared/ring.ts: tsx turns imports into getter reads).
const { RECEIVE } = __case

type SharedHandle = SharedSendChannel<unknown> | SharedReceiveChannel<unknown>

/** [0, 1, ..., n - 1]. */
export function identity(n: number): number[] {
  const order = new Array<number>(n)
  for (let k = 0; k < n; k++) order[k] = k
  return order
}

/** Fisher–Yates step k: swaps a uniformly chosen one of order[k..] into place k and returns it. */
export function drawNext(order: number[], k: number): number {
  const j = k + Math.floor(Math.random() * (order.length - k))
  const i = order[j]!
  order[j] = order[k]!
  order[k] = i
  return i
}

/** The size-0 shared send case whose value a waiting select offers (chosen at random), or -1: none. */
export function offerCase(cases: readonly SelectCase<unknown>[]): number {
  let pick = -1
  let seen = 0
  for (let k = 0; k < cases.length; k++) {
    const c = cases[k]!
    if (c.shared && c.kind !== RECEIVE && (c.channel as SharedHandle).selectLocal().ring.capacity === 0 && Math.random() * ++seen < 1)
      pick = k
  }
  return pick
}
