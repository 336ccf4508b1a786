/**
 * What an operation answers when it finds the channel's other side gone: the
 * end (EndOfChannel) or Broken, unless its task's cancellation is requested,
 * then Cancelled. One rule for memory and shared channels. Only these rare
 * paths read the clock and the worker's cancel flag; an operation that finds
 * a value or room never comes here.
 */
import { Cancelled } from '@gotrio/runtime'
import { cancelRequestedIn, cancelRequestedSync, type CancelStatus, type TaskInfo } from '@gotrio/runtime/lowlevel'

/**
 * The other side is gone (BrokenResourceError for a sender, EndOfChannel for
 * a receiver), but the operation's task has a cancellation request in:
 * Cancelled instead, as Trio's checkpoint (which comes first) would raise.
 * Across threads the difference shows: the owner of a worker task leaves the
 * cancelled scope and closes its end of the channel on the way out (`await
 * using`), while the task's thread has not yet turned its loop to see the
 * request (worker-pool.ts `requestCancel` stores it before anything the owner
 * does next), so without this the task's send failed with Broken and the
 * nursery reported that as an error instead of a cancellation. The operation
 * took or delivered nothing either way. Why the request is always seen when
 * it caused the close: the owner's Atomics.store of the request (kState)
 * comes before its close in program order, the close's RECV_OPEN/SEND_OPEN
 * update is an Atomics operation this thread's operation read (under the lock
 * or in a spin) before deciding BROKEN/END, and the flag is read here with
 * Atomics.load after that: all sequentially consistent, so it holds the
 * request. A request that came after the close may or may not be seen (either
 * answer is a true account). On one thread (memory channels, and any channel
 * whose other side closed in this thread) the request not yet delivered is a
 * deadline that passed while the thread ran: its timer has not fired, and
 * `cancelRequestedSync` expires it here. `peerGone` for code running in the
 * task's context (its own call), `peerGoneFor` for a parked operation woken
 * from the dispatcher (its own status and task).
 */
export function peerGone(make: () => Error): Error {
  return cancelRequestedSync() ? cancelledPeerGone() : make()
}

export function peerGoneFor(op: { status: CancelStatus | undefined; task: TaskInfo | undefined }, make: () => Error): Error {
  return cancelRequestedIn(op.status, op.task) ? cancelledPeerGone() : make()
}

export function cancelledPeerGone(): Error {
  return new Cancelled("the operation was cancelled (its task's cancellation was requested; the channel's other side has closed too)")
}
