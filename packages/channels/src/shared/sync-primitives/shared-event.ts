/**
 * `SharedEvent` (`openSharedEvent()`): `Event` across threads. The event word
 * is set once (`Atomics.store` + `notify` under the guard); a thread whose
 * tasks wait keeps one `Atomics.waitAsync` on it and wakes them all; worker
 * CPU loops use `waitSync()`.
 */
import { Cancelled } from '@gotrio/runtime'
import { checkCancelledSync, macrotask, park, yieldDue } from '@gotrio/runtime/lowlevel'
import { SharedSyncHandle, enter } from './handle-base.ts'
import { S_STATE, S_WAITING } from './layout.ts'
import { EventOp, TID1, refuseMainThread, waitEventSync, type LocalSync } from './local.ts'

export class SharedEvent extends SharedSyncHandle {
  protected readonly kind = 'SharedEvent'

  /** @internal use openSharedEvent() or clone() */
  constructor(local: LocalSync, gen: number) {
    super(local, gen)
  }

  clone(): SharedEvent {
    return new SharedEvent(this.cloneLocal(), this.gen)
  }

  isSet(): boolean {
    return Atomics.load(this.open().cell.i, S_STATE) !== 0
  }

  /** Sets the event and wakes every waiting task in every thread. Idempotent. */
  set(): void {
    this.open().cell.eventSet()
  }

  /** Waits until the event is set. A checkpoint (also when already set). Waiting holds no thread. */
  wait(): Promise<void> {
    const ctx = enter()
    if (ctx instanceof Cancelled) return Promise.reject(ctx)
    let l: LocalSync
    try {
      l = this.open()
    } catch (e) {
      return Promise.reject(e)
    }
    if (Atomics.load(l.cell.i, S_STATE) !== 0 || !l.cell.eventRegister(TID1)) {
      return yieldDue() ? macrotask() : Promise.resolve()
    }
    return park(new EventOp(l, this), ctx)
  }

  /** Worker threads: blocks the thread until the event is set. Throws `Cancelled` when the task is cancelled. */
  waitSync(): void {
    refuseMainThread('SharedEvent.waitSync()', 'await wait()')
    checkCancelledSync()
    const l = this.open()
    if (Atomics.load(l.cell.i, S_STATE) !== 0 || !l.cell.eventRegister(TID1)) return
    waitEventSync(l.cell, S_STATE)
  }

  statistics(): { tasksWaiting: number } {
    return { tasksWaiting: Atomics.load(this.open().cell.i, S_WAITING) }
  }
}
