/**
 * `openSharedEvent`, `openSharedLock`, `openSharedSemaphore`,
 * `openSharedCapacityLimiter`, the revival of moved handles, and the
 * worker-exit hook that releases what a dead thread held.
 */
import { onWorkerExit } from '@gotrio/runtime/lowlevel'
import { A_SYNC, alloc, free, getArena, linkChannel, liveChannels, unlinkChannel } from '../arena.ts'
import { registerArenaBootstrap } from '../bootstrap.ts'
import { Cell } from './cell.ts'
import { checkOptionKeys } from './options.ts'
import {
  BLOCK_BYTES,
  KIND_EVENT,
  KIND_LIMITER,
  KIND_LOCK,
  KIND_SEMAPHORE,
  NO_MAX,
  S_GEN,
  S_HANDLES,
  S_KIND,
  S_LIMIT,
  S_NEXT,
  S_PREV,
  S_STATE,
  O_HANDLES,
} from './layout.ts'
import { SYNC_DESCRIPTOR, type SharedSyncHandle } from './handle-base.ts'
import { TID1, freshLocalSync, localSync } from './local.ts'
import { SharedEvent } from './shared-event.ts'
import { SharedLock } from './shared-lock.ts'
import { SharedCapacityLimiter, SharedSemaphore, checkSharedCount, checkTotal } from './shared-semaphore.ts'

/** Allocates and links a primitive's block with one open handle in this thread; returns [block, gen]. */
function create(kind: number, state: number, limit: number): [number, number] {
  const block = alloc(BLOCK_BYTES)
  const i = new Int32Array(getArena().sab, block, S_HANDLES + 4)
  i[S_KIND] = kind
  i[S_STATE] = state
  i[S_LIMIT] = limit
  i[S_HANDLES] = 1
  const gen = linkChannel(block, S_NEXT, S_PREV, S_GEN, A_SYNC)
  const l = freshLocalSync(block)
  l.cell.guard()
  l.cell.ownerAdd(TID1, O_HANDLES, 1)
  l.cell.unguard()
  return [block, gen]
}

/** A `SharedEvent`: an Event whose handles can live in any thread. */
export function openSharedEvent(): SharedEvent {
  const [block, gen] = create(KIND_EVENT, 0, 0)
  return new SharedEvent(localSync(block), gen)
}

/** A `SharedLock`: a Lock whose handles can live in any thread (FIFO across threads, poisoned if its holder's thread dies). */
export function openSharedLock(): SharedLock {
  const [block, gen] = create(KIND_LOCK, 0, 0)
  return new SharedLock(localSync(block), gen)
}

/** A `SharedSemaphore` with `initialValue` tokens (and at most `maxValue`). */
export function openSharedSemaphore(initialValue: number, options: { maxValue?: number } = {}): SharedSemaphore {
  const fn = 'openSharedSemaphore'
  checkSharedCount(`${fn}(initialValue): initialValue`, initialValue, 0)
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${fn}(initialValue, options): options must be an object like { maxValue }`)
  checkOptionKeys(`${fn}(initialValue, options)`, options, ['maxValue'])
  let max = NO_MAX
  if (options.maxValue !== undefined) {
    max = checkSharedCount(`${fn}(initialValue, { maxValue }): maxValue`, options.maxValue, 0)
    if (initialValue > max) throw new RangeError(`${fn}(${initialValue}, { maxValue: ${max} }): initialValue must not exceed maxValue`)
  }
  const [block, gen] = create(KIND_SEMAPHORE, initialValue, max)
  return new SharedSemaphore(localSync(block), gen)
}

/** A `SharedCapacityLimiter` with `totalTokens` tokens (an integer >= 1, or Infinity). */
export function openSharedCapacityLimiter(totalTokens: number): SharedCapacityLimiter {
  const total = checkTotal('openSharedCapacityLimiter(totalTokens): totalTokens', totalTokens)
  const [block, gen] = create(KIND_LIMITER, 0, total)
  return new SharedCapacityLimiter(localSync(block), gen)
}

/** Revives a descriptor ['gotrio.sync', block, gen] as a live handle of this thread (a move: the count stays). */
export function reviveSync(desc: readonly unknown[]): SharedSyncHandle {
  const [tag, block, gen] = desc as [string, number, number]
  if (tag !== SYNC_DESCRIPTOR || typeof block !== 'number' || typeof gen !== 'number') {
    throw new TypeError("reviveSync: expected a shared sync-primitive descriptor ['gotrio.sync', block, generation]")
  }
  const l = localSync(block)
  if (Atomics.load(l.cell.i, S_GEN) !== gen) {
    throw new Error('gotrio internal error (this is a bug in gotrio): a moved shared sync handle refers to a freed primitive')
  }
  l.cell.addHandle(TID1, false)
  switch (l.cell.i[S_KIND]) {
    case KIND_EVENT:
      return new SharedEvent(l, gen)
    case KIND_LOCK:
      return new SharedLock(l, gen)
    case KIND_SEMAPHORE:
      return new SharedSemaphore(l, gen)
    default:
      return new SharedCapacityLimiter(l, gen)
  }
}

/**
 * Thread `deadThreadId` died: releases what it held (a lock: released and
 * marked poisoned; tokens: given back), forgets its waiters and drops its
 * handles, so nobody else hangs. Installed as the runtime's worker-exit hook;
 * exported for tests that kill raw workers.
 */
export function releaseSyncOfDeadThread(deadThreadId: number): void {
  for (const block of liveChannels(S_NEXT, A_SYNC)) {
    const cell = new Cell(block)
    const { nodes, last } = cell.deadThread(deadThreadId + 1, cell.i[S_KIND]!)
    for (const n of nodes) free(n)
    if (last) {
      unlinkChannel(block, S_NEXT, S_PREV, S_GEN, A_SYNC)
      free(block)
    }
  }
}

registerArenaBootstrap()
onWorkerExit(releaseSyncOfDeadThread)
