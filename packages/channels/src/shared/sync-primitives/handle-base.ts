/**
 * What every shared sync handle shares: the state machine open → closed |
 * moved, clone, close, and moving across threads (the runtime's kTransfer
 * protocol for worker-task arguments, and the channels' endpoint hooks for
 * handles inside channel values). Like a channel endpoint, a handle object
 * belongs to the thread that made it; crossing a thread moves it (the old
 * object then throws ClosedResourceError) and the open count does not change.
 * When the last handle anywhere closes, the block is freed.
 */
import { Cancelled, checkpoint } from '@gotrio/runtime'
import { adoptResource, current, kTransfer, releaseResource, type TaskContext, type TransferRecord } from '@gotrio/runtime/lowlevel'
import { ClosedResourceError } from '../../errors.ts'
import { free, unlinkChannel, A_SYNC } from '../arena.ts'
import { S_GEN, S_NEXT, S_PREV } from './layout.ts'
import { TID1, dropLocalSync, forgetLocalSync, type LocalSync } from './local.ts'

const OPEN = 0
const CLOSED = 1
const MOVED = 2

export const SYNC_TRANSFER_MODULE = new URL(`./transfer${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url).href
/** First element of a sync handle's descriptor (tells it from a channel endpoint's). */
export const SYNC_DESCRIPTOR = 'gotrio.sync'

export abstract class SharedSyncHandle {
  #state = OPEN
  readonly #local: LocalSync
  readonly #gen: number
  protected abstract readonly kind: string

  /** @internal */
  constructor(local: LocalSync, gen: number) {
    this.#local = local
    this.#gen = gen
    local.handles++
    adoptResource(this)
  }

  /** The thread's state, or ClosedResourceError naming why this handle is unusable. */
  protected open(): LocalSync {
    if (this.#state === OPEN) return this.#local
    if (this.#state === MOVED) {
      throw new ClosedResourceError(
        `this ${this.kind} handle was moved to another thread (passed to a worker task or sent through a channel); ` +
          'use the handle that thread received, or pass a clone() to keep one here',
      )
    }
    throw new ClosedResourceError(`this ${this.kind} handle is closed`)
  }

  /** @internal */
  get gen(): number {
    return this.#gen
  }

  /** @internal the descriptor that travels: ['gotrio.sync', block, gen]. */
  describe(): [string, number, number] {
    return [SYNC_DESCRIPTOR, this.open().block, this.#gen]
  }

  /** @internal gives this handle up (it moved); the open count stays. */
  moveOut(): void {
    const l = this.open()
    l.cell.moveHandleOut(TID1)
    this.#state = MOVED
    l.handles--
    releaseResource(this)
    dropLocalSync(l)
  }

  /** @internal undoes moveOut (a channel offer carrying this handle was withdrawn). */
  moveBack(): void {
    const l = this.#local
    l.cell.addHandle(TID1, false)
    this.#state = OPEN
    l.handles++
    adoptResource(this)
  }

  [kTransfer](check?: boolean): TransferRecord | undefined {
    if (check) {
      this.open()
      return undefined
    }
    const data = this.describe()
    this.moveOut()
    return { module: SYNC_TRANSFER_MODULE, data }
  }

  /** @internal a new handle of the same primitive in this thread. */
  protected cloneLocal(): LocalSync {
    const l = this.open()
    l.cell.addHandle(TID1, true)
    return l
  }

  /**
   * Gives this handle up. Synchronous and idempotent. Its own waiting tasks
   * fail with ClosedResourceError (having acquired nothing). A lock or tokens
   * held stay held (release them first).
   */
  close(): void {
    if (this.#state !== OPEN) return
    const l = this.#local
    this.#state = CLOSED
    releaseResource(this)
    for (const op of [...l.ops]) {
      if (op.handle === this && op.withdraw())
        op.fail(new ClosedResourceError(`this ${this.kind} handle was closed while a task waited on it`))
    }
    const last = l.cell.closeHandle(TID1)
    l.handles--
    dropLocalSync(l)
    if (last) {
      forgetLocalSync(l)
      unlinkChannel(l.block, S_NEXT, S_PREV, S_GEN, A_SYNC)
      free(l.block)
    }
  }

  async aclose(): Promise<void> {
    this.close()
    await checkpoint()
  }

  [Symbol.dispose](): void {
    this.close()
  }
}

/** The entry checkpoint of a blocking call (also expires passed deadlines as sleep does, via checkpoint rules). */
export function enter(): TaskContext | Cancelled {
  const ctx = current()
  return ctx.status.effectivelyCancelled ? new Cancelled() : ctx
}
