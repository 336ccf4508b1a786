/**
 * Resources that cross threads with worker tasks: shared channel endpoints.
 *
 * Ownership rule (API.md): a worker task closes every endpoint it still owns
 * when it ends. A primitive calls `adoptResource(r)` when a handle comes to
 * exist in the current task (created or received) and `releaseResource(r)` when
 * it stops being the task's (closed, or moved to another thread). Only worker
 * tasks keep an owned set; elsewhere both are no-ops.
 *
 * Transfer protocol: a value that can move to another thread implements
 * `[kTransfer]()`, which gives the local handle up and returns a record the
 * receiving thread turns back into a live handle by importing `module` and
 * calling its export `reviveTransfer(data)`. The runtime uses it for worker-task
 * arguments; channels use it for endpoints inside channel values.
 */
import { current } from './context.ts'
import type { Closeable } from './status.ts'

export const kTransfer: unique symbol = Symbol.for('gotrio.transfer')

export interface TransferRecord {
  /** Module URL whose `reviveTransfer(data)` export rebuilds the value on the other thread. */
  readonly module: string
  /** Structured-clonable description (may hold SharedArrayBuffers). */
  readonly data: unknown
}

export interface Transferable {
  /**
   * Gives up this handle (a move) and describes how to rebuild it on another
   * thread. Throws (TypeError, ClosedResourceError, …) if it cannot move.
   * Called with `check = true` first, for every transferable of a value: then
   * it must only throw if it cannot move, and give up nothing, so that a value
   * holding one bad endpoint moves none (nothing is lost).
   */
  [kTransfer](check?: boolean): TransferRecord | undefined
}

export function adoptResource(r: Closeable): void {
  current().task.owned?.add(r)
}

export function releaseResource(r: Closeable): void {
  current().task.owned?.delete(r)
}
