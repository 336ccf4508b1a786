/**
 * The process-wide shared arena: one growable SharedArrayBuffer, made on the
 * main thread when @gotrio/channels loads and handed to every worker thread by
 * the runtime's bootstrap hook (bootstrap.ts). Every shared channel (header and
 * ring) and every out-of-line value is a block of it, so an endpoint is just
 * (block offset, generation, side): a few integers that fit in any ring, which
 * is how endpoints travel inside channel values (DESIGN.md hard part 3).
 *
 * Why one arena and not one SAB per channel: a SAB cannot be written into a
 * byte ring, and v8.Serializer's SAB ids do not round-trip on Node 20/22; a
 * growable SAB is seen grown by every thread that holds it, so one handed over
 * at worker start-up is enough forever.
 *
 * Arena header (Int32 index; all written under A_LOCK):
 *
 * | idx | name        | meaning                                                            |
 * |-----|-------------|--------------------------------------------------------------------|
 * |  0  | A_LOCK      | allocator mutex (lock.ts)                                           |
 * |  1  | A_TOP       | bump pointer: first never-allocated byte                            |
 * |  2  | A_CHANNELS  | first live channel's block offset (list through H_NEXT/H_PREV), 0   |
 * |  3  | A_GEN       | last generation handed out to a channel                             |
 * | 4.. | A_FREE      | CLASSES free-list heads, one per size class (block offset, 0 = none)|
 * | 30  | A_SYNC      | first live shared sync primitive's block (sync-primitives/, same    |
 * |     |             | list links as channels, its own list), 0                             |
 * | 32..| A_GATES     | GATE_ENTRIES × [worker threadId + 1 (0 = free), gate word, pad to  |
 * |     |             | 64 bytes]: each worker thread's termination gate (lock.ts), written |
 * |     |             | on every lock and unlock of that thread, so one cache line each     |
 * |     |             | (two workers' gates on one line cost a line transfer per op);       |
 * |     |             | claimed at bootstrap, released by the owner thread's worker-exit hook |
 *
 * Allocator: segregated power-of-two size classes (64 B .. 2^(6+CLASSES-1)),
 * never split nor merged. A block is preceded by an 8-byte tag [class, next
 * free]; `alloc` pops the class's free list or bumps A_TOP (growing the SAB);
 * `free` pushes. Memory held is therefore at most twice the peak of live bytes
 * per class, whatever the traffic. Block offsets are 8-aligned.
 */
import { isMainThread, threadId } from 'node:worker_threads'
import * as __lock from './lock.ts'
// Local bindings (see the note in ring.ts: tsx turns imports into getter reads).
const { lock, unlock, setThreadGate, GATE_CLOSING, GATE_DEPTH_MASK } = __lock

const A_LOCK = 0
const A_TOP = 1
const A_CHANNELS = 2
const A_GEN = 3
const A_FREE = 4
const CLASSES = 26
/** Head of the list of live shared sync primitives (a padding word before the gates; see the table). */
export const A_SYNC = A_FREE + CLASSES
/** The list `linkChannel`/`unlinkChannel`/`liveChannels` work on by default. */
export const LIST_CHANNELS = A_CHANNELS
/** The gate table starts on a 64-byte line (A_FREE + CLASSES = 30 words, rounded up). */
const A_GATES = (A_FREE + CLASSES + 15) & ~15
/** Worker threads alive at once that get a termination gate; later ones run without (README). */
const GATE_ENTRIES = 256
/** Int32 words per gate entry: [threadId + 1, gate word], padded to a 64-byte cache line. */
const GATE_STRIDE = 16
const MIN_CLASS_SHIFT = 6
const ARENA_HEADER_BYTES = (A_GATES + GATE_STRIDE * GATE_ENTRIES) * 4 + 8
const TAG_BYTES = 8

/** Reserved address space; physical memory is committed only as the arena grows. */
export const ARENA_MAX_BYTES = 1 << 30
const ARENA_INITIAL_BYTES = 1 << 20

/** The thread's view of the arena; all length-tracking, so they follow `grow` from any thread. */
export interface Arena {
  readonly sab: SharedArrayBuffer
  readonly i32: Int32Array
  readonly u32: Uint32Array
  readonly f64: Float64Array
  readonly u8: Uint8Array
}

let arena: Arena | undefined

function makeViews(sab: SharedArrayBuffer): Arena {
  return { sab, i32: new Int32Array(sab), u32: new Uint32Array(sab), f64: new Float64Array(sab), u8: new Uint8Array(sab) }
}

/** Made at module load on the main thread; in a worker only `adoptArena` (the bootstrap) sets it. */
if (isMainThread) {
  const sab = new SharedArrayBuffer(ARENA_INITIAL_BYTES, { maxByteLength: ARENA_MAX_BYTES })
  arena = makeViews(sab)
  Atomics.store(arena.i32, A_TOP, ARENA_HEADER_BYTES)
}

/** The arena's SAB, for the worker bootstrap data. */
export function arenaBuffer(): SharedArrayBuffer | undefined {
  return arena?.sab
}

/** Called in a worker by bootstrap.ts. Idempotent for the same buffer; a second, different arena is a bug. */
export function adoptArena(sab: SharedArrayBuffer): void {
  if (!(sab instanceof SharedArrayBuffer) || !sab.growable) {
    throw new TypeError('gotrio: the shared-channel worker bootstrap expects the arena SharedArrayBuffer (growable)')
  }
  if (arena && arena.sab !== sab) {
    throw new Error('gotrio: this thread already has a different shared arena; a thread must be bootstrapped once')
  }
  arena ??= makeViews(sab)
  claimGate()
}

// ---- termination gates (protocol in lock.ts) ----------------------------------

/** A fixed-length view of the gate table: the gate word is touched on every lock, and length-tracking views are slow. */
function gateView(a: Arena): Int32Array {
  return new Int32Array(a.sab, A_GATES * 4, GATE_STRIDE * GATE_ENTRIES)
}

/** In a worker, once: takes a free gate entry for this thread (none left: the thread runs ungated). */
function claimGate(): void {
  if (isMainThread || gateClaimed) return
  gateClaimed = true
  const a = arena!
  const g = gateView(a)
  lock(a.i32, A_LOCK)
  let at = -1
  for (let e = 0; e < GATE_ENTRIES; e++) {
    if (g[GATE_STRIDE * e] === 0) {
      at = GATE_STRIDE * e
      g[at] = threadId + 1
      Atomics.store(g, at + 1, 0)
      break
    }
  }
  unlock(a.i32, A_LOCK)
  if (at >= 0) setThreadGate(g, at + 1)
}
let gateClaimed = false

function findGate(g: Int32Array, tid: number): number {
  for (let e = 0; e < GATE_ENTRIES; e++) if (Atomics.load(g, GATE_STRIDE * e) === tid + 1) return GATE_STRIDE * e + 1
  return -1
}

/** How long `quiesceThread` waits for a thread to leave its critical sections before giving up. */
const QUIESCE_LIMIT_MS = 2000

/**
 * Before terminating worker thread `tid`: closes its gate and resolves once it
 * is inside no critical section, so the termination leaves no lock held and no
 * ring half-written. Resolves `false` (after a warning) if the thread has not
 * left within QUIESCE_LIMIT_MS (it waits on a lock a thread that died outside
 * our control still holds), `true` otherwise, also when the thread has no gate.
 */
export async function quiesceThread(tid: number): Promise<boolean> {
  if (!arena) return true
  const g = gateView(arena)
  const at = findGate(g, tid)
  if (at < 0) return true
  Atomics.or(g, at, GATE_CLOSING)
  const deadline = Date.now() + QUIESCE_LIMIT_MS
  while ((Atomics.load(g, at) & GATE_DEPTH_MASK) !== 0) {
    if (Date.now() > deadline) {
      process.emitWarning(
        `gotrio: worker thread ${tid} stayed inside a shared-channel critical section for ${QUIESCE_LIMIT_MS} ms; terminating it anyway`,
      )
      return false
    }
    // Sections last microseconds: the first retry almost always finds it out.
    await new Promise((r) => setTimeout(r, 1))
  }
  return true
}

/** After worker thread `tid` has exited: frees its gate entry. */
export function releaseGate(tid: number): void {
  if (!arena) return
  const a = arena
  const g = gateView(a)
  lock(a.i32, A_LOCK)
  const at = findGate(g, tid)
  if (at >= 0) {
    Atomics.store(g, at, 0)
    Atomics.store(g, at - 1, 0)
  }
  unlock(a.i32, A_LOCK)
}

/** The arena, or an error that says how to start the worker. */
export function getArena(): Arena {
  if (arena) return arena
  throw new Error(
    'gotrio: shared channels are not available in this worker thread: it was not started with the gotrio shared arena. ' +
      'Run the code as a worker task (workerTask/runInWorker), or start the worker with ' +
      "workerData: { bootstraps: workerBootstraps() } (from '@gotrio/runtime/lowlevel') and call " +
      'await runWorkerBootstraps(workerData.bootstraps) in the worker before using shared channels.',
  )
}

function classOf(bytes: number): number {
  let c = 0
  while (1 << (c + MIN_CLASS_SHIFT) < bytes + TAG_BYTES) c++
  if (c >= CLASSES) throw new RangeError(`gotrio: a shared-memory block of ${bytes} bytes is larger than the arena allows`)
  return c
}

/** Allocates `bytes` (zeroed) and returns the block's byte offset. Throws RangeError when the arena is exhausted. */
export function alloc(bytes: number): number {
  const a = getArena()
  const c = classOf(bytes)
  const size = 1 << (c + MIN_CLASS_SHIFT)
  lock(a.i32, A_LOCK)
  let tag: number
  try {
    tag = a.i32[A_FREE + c]!
    if (tag !== 0) {
      a.i32[A_FREE + c] = a.i32[(tag >> 2) + 1]!
    } else {
      tag = a.i32[A_TOP]!
      const end = tag + size
      if (end > a.sab.byteLength) {
        if (end > ARENA_MAX_BYTES) {
          throw new RangeError(
            `gotrio: the shared arena is exhausted (${ARENA_MAX_BYTES} bytes reserved): too much data waits in shared channels at once; lower capacities or maxBufferBytes`,
          )
        }
        a.sab.grow(Math.min(ARENA_MAX_BYTES, Math.max(end, a.sab.byteLength * 2)))
      }
      a.i32[A_TOP] = end
    }
    a.i32[tag >> 2] = c
    a.i32[(tag >> 2) + 1] = 0
  } finally {
    unlock(a.i32, A_LOCK)
  }
  const block = tag + TAG_BYTES
  a.u8.fill(0, block, block + bytes)
  return block
}

/** Returns a block to its class's free list. */
export function free(block: number): void {
  const a = getArena()
  const tag = block - TAG_BYTES
  lock(a.i32, A_LOCK)
  const c = a.i32[tag >> 2]!
  a.i32[(tag >> 2) + 1] = a.i32[A_FREE + c]!
  a.i32[A_FREE + c] = tag
  unlock(a.i32, A_LOCK)
}

/** Usable bytes of a block (its class size minus the tag). */
export function blockCapacity(block: number): number {
  const a = getArena()
  return (1 << (a.i32[(block - TAG_BYTES) >> 2]! + MIN_CLASS_SHIFT)) - TAG_BYTES
}

/**
 * Links a new channel block into the list of live channels and gives it a
 * fresh generation (returned). `nextIdx`/`prevIdx`/`genIdx` are the header's
 * Int32 indices relative to the block.
 */
export function linkChannel(block: number, nextIdx: number, prevIdx: number, genIdx: number, list: number = A_CHANNELS): number {
  const a = getArena()
  const base = block >> 2
  lock(a.i32, A_LOCK)
  const gen = (a.i32[A_GEN]! + 1) | 0 || 1
  a.i32[A_GEN] = gen
  Atomics.store(a.i32, base + genIdx, gen)
  const head = a.i32[list]!
  a.i32[base + nextIdx] = head
  a.i32[base + prevIdx] = 0
  if (head !== 0) a.i32[(head >> 2) + prevIdx] = block
  a.i32[list] = block
  unlock(a.i32, A_LOCK)
  return gen
}

/** Unlinks a channel block (before freeing it) and clears its generation. */
export function unlinkChannel(block: number, nextIdx: number, prevIdx: number, genIdx: number, list: number = A_CHANNELS): void {
  const a = getArena()
  const base = block >> 2
  lock(a.i32, A_LOCK)
  const next = a.i32[base + nextIdx]!
  const prev = a.i32[base + prevIdx]!
  if (prev !== 0) a.i32[(prev >> 2) + nextIdx] = next
  else a.i32[list] = next
  if (next !== 0) a.i32[(next >> 2) + prevIdx] = prev
  Atomics.store(a.i32, base + genIdx, 0)
  unlock(a.i32, A_LOCK)
}

/** The block offsets of every live channel (a snapshot, for the worker-exit hook). */
export function liveChannels(nextIdx: number, list: number = A_CHANNELS): number[] {
  const a = getArena()
  const out: number[] = []
  lock(a.i32, A_LOCK)
  for (let b = a.i32[list]!; b !== 0; b = a.i32[(b >> 2) + nextIdx]!) out.push(b)
  unlock(a.i32, A_LOCK)
  return out
}

/** Bytes the arena has committed (diagnostics and tests of bounded memory). */
export function arenaCommittedBytes(): number {
  return getArena().i32[A_TOP]!
}
