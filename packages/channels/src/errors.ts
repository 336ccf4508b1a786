/**
 * Channel errors, named by cause (Trio's names):
 *  - `WouldBlock`: a `*Nowait` call could not complete at once.
 *  - `EndOfChannel`: every sender closed and the buffer is drained (graceful end).
 *  - `ClosedResourceError`: *your own* handle is closed (or was moved to another thread).
 *  - `BrokenResourceError`: the other side is gone (every receiver closed).
 */
// One class for the whole library, defined in @gotrio/runtime (its sync primitives throw it too).
export { WouldBlock } from '@gotrio/runtime'

export class EndOfChannel extends Error {
  override name = 'EndOfChannel'
}

export class ClosedResourceError extends Error {
  override name = 'ClosedResourceError'
}

export class BrokenResourceError extends Error {
  override name = 'BrokenResourceError'
}
