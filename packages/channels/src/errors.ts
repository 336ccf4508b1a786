/**
 * Channel errors, named by cause (Trio's names):
 *  - `WouldBlock`: a `*Nowait` call could not complete at once.
 *  - `EndOfChannel`: every sender closed and the buffer is drained (graceful end).
 *  - `ClosedResourceError`: *your own* handle is closed (or was moved to another thread).
 *  - `BrokenResourceError`: the other side is gone (every receiver closed).
 *
 * Each is registered with the runtime so it keeps its class when it crosses
 * threads (a worker task's error, runtime/src/error-classes.ts).
 */
// One class for the whole library, defined in @gotrio/runtime (its sync primitives throw it too).
export { WouldBlock } from '@gotrio/runtime'
import { registerErrorClass } from '@gotrio/runtime/lowlevel'

export class EndOfChannel extends Error {
  override name = 'EndOfChannel'
}

export class ClosedResourceError extends Error {
  override name = 'ClosedResourceError'
}

export class BrokenResourceError extends Error {
  override name = 'BrokenResourceError'
}

registerErrorClass('EndOfChannel', EndOfChannel)
registerErrorClass('ClosedResourceError', ClosedResourceError)
registerErrorClass('BrokenResourceError', BrokenResourceError)
