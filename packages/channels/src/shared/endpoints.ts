/**
 * The shared-channel handles together: `SharedSendChannel` (send-channel.ts)
 * and `SharedReceiveChannel` (receive-channel.ts), both extending
 * `SharedEndpoint` (endpoint-base.ts). A handle is (channel block, generation,
 * side) plus its thread's `LocalChannel`; all shared state lives in the arena
 * (ring.ts). This module revives moved handles from their descriptors and
 * installs the structured codec's endpoint hooks (codec.ts).
 *
 * Load order: this module imports endpoint-base.ts, send-channel.ts and
 * receive-channel.ts, none of which imports it back, so `setEndpointHooks`
 * below runs once, after both handle classes exist. open.ts (which makes
 * handles) and transfer.ts (which revives them) import the handles through
 * here, so the hooks are installed in a thread before any handle exists there.
 */
import * as __codec from './codec.ts'
import * as __base from './endpoint-base.ts'
import * as L from './layout.ts'
import * as __ring from './ring.ts'
import { SharedReceiveChannel } from './receive-channel.ts'
import { SharedSendChannel } from './send-channel.ts'
import * as __waiting from './waiting.ts'
import * as __sync from './sync-primitives/index.ts'
export { finishClose } from './endpoint-base.ts'
export { SharedReceiveChannel, SharedSendChannel }
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { setEndpointHooks, codecByName } = __codec
const { SharedEndpoint } = __base // isEndpoint runs for every object of a structured value
type SharedEndpoint = __base.SharedEndpoint
const { SIDE_SEND } = __ring
const { localChannel } = __waiting

// Local copies: under tsx, reads of imported bindings go through getters (measured: a 20x slower hot path).
const { H_GEN } = L

/** Revives a descriptor [block, gen, side, codec] as a live handle of this thread. */
export function reviveEndpoint(desc: readonly unknown[]): SharedSendChannel<unknown> | SharedReceiveChannel<unknown> {
  const [block, gen, side, codecName] = desc as [number, number, number, string]
  const local = localChannel(block)
  if (Atomics.load(local.ring.i32, local.ring.h + H_GEN) !== gen) {
    throw new Error(`gotrio internal error (this is a bug in gotrio): a moved shared-channel endpoint refers to a freed channel`)
  }
  const codec = codecByName(codecName)
  return side === SIDE_SEND ? SharedSendChannel.revive(local, gen, codec) : SharedReceiveChannel.revive(local, gen, codec)
}

// Shared sync handles (sync-primitives/) travel inside values the same way; their descriptors start with SYNC_DESCRIPTOR.
const { SharedSyncHandle, SYNC_DESCRIPTOR, reviveSync } = __sync
setEndpointHooks({
  isEndpoint: (x) => x instanceof SharedEndpoint || x instanceof SharedSyncHandle,
  describe: (x) => (x as SharedEndpoint).describe(),
  moveOut: (x) => (x as SharedEndpoint).moveOut(),
  revive: (d) => (d[0] === SYNC_DESCRIPTOR ? reviveSync(d) : reviveEndpoint(d)),
})
