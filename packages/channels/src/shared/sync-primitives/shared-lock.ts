/**
 * `SharedLock` (`openSharedLock()`): `Lock`'s interface and semantics across
 * threads. Owned by a task on its thread; FIFO among registered waiters of all
 * threads (cell.ts); uncontended acquire and release are one CAS each. Plus
 * `acquireSync()` for worker CPU loops. If the holder's thread dies the lock
 * is released and `statistics().poisoned` becomes true.
 */
import { threadId } from 'node:worker_threads'
import * as __runtime from '@gotrio/runtime'
import * as __lowlevel from '@gotrio/runtime/lowlevel'
import type { TaskInfo } from '@gotrio/runtime/lowlevel'
import * as __cell from './cell.ts'
import { SharedSyncHandle } from './handle-base.ts'
import * as __base from './handle-base.ts'
import * as __layout from './layout.ts'
import * as __local from './local.ts'
import type { LocalSync } from './local.ts'
// Local bindings: under tsx, reads of imported bindings go through getters (see ../ring.ts); these are on the hot path.
const { Cancelled, WouldBlock } = __runtime
const { macrotask, park, yieldDue, current, cancelRequestedSync } = __lowlevel
const { ACQUIRED } = __cell
const { enter } = __base
const { S_STATE, S_WAITING } = __layout
const { giveNode, takeNode, ME2, NodeOp, SPINS_ASYNC, SPINS_SYNC, TID1, refuseMainThread, waitGrantedSync } = __local

export interface SharedLockStatistics {
  locked: boolean
  /** The holding task's name when it is in this thread, else `thread N`. */
  owner: string | undefined
  tasksWaiting: number
  /** True once a thread died holding the lock: what it guarded may be half-written. */
  poisoned: boolean
}

export class SharedLock extends SharedSyncHandle {
  protected readonly kind = 'SharedLock'

  /** @internal use openSharedLock() or clone() */
  constructor(local: LocalSync, gen: number) {
    super(local, gen)
  }

  /** Another handle of the same lock (for another worker task; each is closed on its own). */
  clone(): SharedLock {
    return new SharedLock(this.cloneLocal(), this.gen)
  }

  /**
   * Acquires the lock, waiting (FIFO across threads) while another task holds
   * it; resolves with a `Disposable` that releases it. A checkpoint; a
   * cancelled acquire acquired nothing. Waiting holds no thread.
   */
  acquire(): Promise<Disposable> {
    const ctx = enter()
    if (ctx instanceof Cancelled) return Promise.reject(ctx)
    let l: LocalSync
    try {
      l = this.#check(ctx.task, 'SharedLock.acquire')
    } catch (e) {
      return Promise.reject(e)
    }
    const cell = l.cell
    if (cell.lockFast(ME2) || this.#spin(l, SPINS_ASYNC)) {
      const h = take(l, ctx.task)
      return yieldDue() ? macrotask().then(() => h) : Promise.resolve(h)
    }
    const node = takeNode()
    if (cell.lockOrQueue(ME2, TID1, node) === ACQUIRED) {
      giveNode(node)
      return Promise.resolve(take(l, ctx.task))
    }
    const task = ctx.task
    return park(new NodeOp('SharedLock.acquire', l, this, node, true, () => take(l, task)), ctx)
  }

  /** Acquires the lock if it is free; otherwise throws `WouldBlock`. Not a checkpoint. */
  acquireNowait(): Disposable {
    const task = current().task
    const l = this.#check(task, 'SharedLock.acquireNowait')
    if (!l.cell.lockFast(ME2)) throw new WouldBlock('SharedLock.acquireNowait: the lock is held')
    return take(l, task)
  }

  /**
   * Worker threads: acquires, blocking the thread (`Atomics.wait`) while the
   * lock is held elsewhere. Throws `Cancelled` (having acquired nothing) when
   * the task is cancelled. On the main thread it throws: use `await acquire()`.
   */
  acquireSync(): Disposable {
    refuseMainThread('SharedLock.acquireSync()', 'await acquire() (or acquireNowait())')
    if (cancelRequestedSync()) throw new Cancelled() // the worker task's shared flag too, shields honoured
    const task = current().task
    const l = this.#check(task, 'SharedLock.acquireSync')
    const cell = l.cell
    if (cell.lockFast(ME2) || this.#spin(l, SPINS_SYNC)) return take(l, task)
    const node = takeNode()
    if (cell.lockOrQueue(ME2, TID1, node) !== ACQUIRED) waitGrantedSync(cell, node, true)
    giveNode(node)
    return take(l, task)
  }

  /** Releases the lock (to the longest-waiting task of any thread). Only the holding task may. */
  release(): void {
    const l = this.open()
    releaseBy(l, current().task, 'SharedLock.release')
  }

  locked(): boolean {
    return Atomics.load(this.open().cell.i, S_STATE) !== 0
  }

  /** A snapshot; other threads may change it at once. */
  statistics(): SharedLockStatistics {
    const l = this.open()
    const holder = l.cell.holderThread()
    return {
      locked: holder !== 0,
      owner: holder === 0 ? undefined : holder === TID1 && l.owner ? l.owner.name : `thread ${holder - 1}`,
      tasksWaiting: Atomics.load(l.cell.i, S_WAITING),
      poisoned: l.cell.poisoned(),
    }
  }

  #check(task: TaskInfo, what: string): LocalSync {
    const l = this.open()
    if (l.owner === task) {
      throw new Error(
        `${what}: this task already holds the lock; acquiring it again would wait for itself forever (a lock is not re-entrant)`,
      )
    }
    return l
  }

  /** Spins on the lock word while another thread holds it (a wake-up costs more than a short critical section). */
  #spin(l: LocalSync, spins: number): boolean {
    const i = l.cell.i
    if (l.cell.holderThread() === TID1) return false // held in this thread: only our own event loop can free it
    for (let k = 0; k < spins; k++) {
      const w = Atomics.load(i, S_STATE)
      if (w === 0) {
        if (l.cell.lockFast(ME2)) return true
      } else if (w & 1) return false // waiters are queued: FIFO, do not barge
    }
    return false
  }
}

/** A lock holding's Disposable: releases if it is still the current holding (a stale one does nothing). */
class LockHolding implements Disposable {
  readonly l: LocalSync
  readonly task: TaskInfo
  constructor(l: LocalSync, task: TaskInfo) {
    this.l = l
    this.task = task
  }
  [Symbol.dispose](): void {
    if (this.l.holding === this) releaseBy(this.l, this.task, 'SharedLock (dispose)')
  }
}

function take(l: LocalSync, task: TaskInfo): Disposable {
  l.owner = task
  const h = new LockHolding(l, task)
  l.holding = h
  return h
}

function releaseBy(l: LocalSync, task: TaskInfo, what: string): void {
  if (l.owner !== task) {
    const holder = l.cell.holderThread()
    throw new Error(
      holder === 0
        ? `${what}: the lock is not held; release only a lock your task acquired`
        : `${what}: the lock is held by ${holder === TID1 && l.owner ? `task '${l.owner.name}'` : `a task of thread ${holder - 1}`}, not by this task ('${task.name}' in thread ${threadId}); only the task that acquired a lock may release it`,
    )
  }
  l.owner = l.holding = undefined
  if (!l.cell.unlockFast(ME2)) l.cell.unlockSlow()
}
