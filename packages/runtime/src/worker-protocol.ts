/**
 * The protocol between the thread that starts a worker task (the *owner*) and
 * the pool thread that runs it. One task = one Piscina call carrying a
 * `TaskPayload`, answered by a `TaskResult`, plus a small control block in
 * shared memory for what must reach a thread whose event loop may be busy.
 *
 * Control block (4 × Int32, CONTROL_BYTES):
 *
 * | index | name     | written by                  | read by        | meaning                                                        |
 * |-------|----------|-----------------------------|----------------|----------------------------------------------------------------|
 * | 0     | kState   | owner                       | worker         | 0 running; 1 cancel requested                                   |
 * | 1     | kThread  | worker, once at task start  | owner          | threadId of the worker running it; 0 while still queued         |
 * | 2     | kArgsTaken | worker, once, before reviving the arguments | owner | 1 once the worker took over the moved endpoints of the arguments |
 * | 3     | kPhase   | worker and owner, by compareExchange (below) | both | PHASE_WAITING, PHASE_CALLED, PHASE_DROPPED, PHASE_ANSWERED |
 *
 * kPhase says whether the task's *function* runs, which is what the grace
 * period is about (a task queued, or whose thread is still booting or loading
 * its module, runs nothing and must never cost a thread):
 *  - PHASE_WAITING (0): the function has not been called (queued on a thread,
 *    the thread booting, the module loading, the arguments being revived).
 *  - PHASE_CALLED (1): the worker moved WAITING → CALLED by compareExchange
 *    and then calls the function (unless it then finds kState set).
 *  - PHASE_DROPPED (2): the owner, cancelling, moved WAITING → DROPPED by
 *    compareExchange: the function will never be called, the worker answers
 *    "cancelled" when it reaches the task, no grace timer is armed.
 *  - PHASE_ANSWERED (3): the worker stores it just before answering: the
 *    thread no longer runs the task (its answer may not have been read yet by
 *    a busy owner), so the task is no reason to terminate the thread.
 * The two compareExchanges from WAITING decide, exactly once, whether the
 * function runs or the task is dropped. The owner stores kState before its
 * compareExchange and the worker reads kState after its own, so a request
 * that loses the race (the function was called first) is still seen by the
 * worker through kState (all accesses are sequentially consistent Atomics).
 * The grace timer terminates a thread only if kPhase is still CALLED.
 *
 * Where the blocks live (cost: a SharedArrayBuffer made and cloned per task
 * was a measurable part of a trivial task's round trip): each pool makes one
 * slab of SLAB_SLOTS blocks and hands it to every thread in `workerData`
 * (`PoolShared`); a task then carries only its slot number. A task started
 * while every slot is taken gets a SharedArrayBuffer of its own in
 * `TaskPayload.control` instead (same layout). The owner zeroes a slot when it
 * takes it and puts it back once the task's result has arrived (the worker
 * writes its last word before it answers). A slot whose task failed because
 * its thread died goes back only after that thread's 'exit' event: a thread
 * being terminated may still run a few instructions after Piscina has failed
 * its tasks, and would write into the next task's block. (A task that never
 * started, kThread 0, was queued on a thread that died: its slot goes back at
 * the next thread exit.)
 *
 * Cancellation reaches a worker through a doorbell, not a watch per task
 * (an `Atomics.waitAsync` per task cost more than the rest of the worker's
 * bookkeeping together): the owner stores kState=1, then adds 1 to the pool's
 * doorbell word (`PoolShared.bell`) and notifies. Every thread of the pool
 * keeps one `Atomics.waitAsync` on the doorbell, armed when its first task
 * starts and re-armed after each ring; on a ring it cancels each of its
 * running tasks whose kState is 1. A task checks kState itself right after it
 * is registered as running, so a request made before that is seen at once and
 * one made after rings a doorbell that will find it registered (all accesses
 * are sequentially consistent Atomics). Rings are rare (only cancellations),
 * so waking every thread of the pool costs nothing in the common case.
 * `checkCancelledSync()` reads kState directly, for code blocked in
 * Atomics.wait.
 *
 * kArgsTaken decides who closes the endpoints moved in the arguments if the
 * task never completes normally: while it is 0 the worker has not revived
 * them, so the owner revives and closes them (its thread died first, or the
 * payload never reached it); once 1, they belong to the worker's thread and
 * the worker-exit hooks close them. The worker stores 1 *before* reviving: a
 * death between the two leaks those handles (a narrow window) rather than
 * letting both sides close them (which would corrupt the open counts).
 *
 * Thread board (`PoolShared.board`): the hints the pool's balancer reads to
 * choose a thread for a new task (balancer.ts). One row of BOARD_ROW_INTS
 * Int32 per thread, BOARD_ROWS_PER_WORKER rows per thread of the pool plus
 * BOARD_SPARE_ROWS, so replacement threads find a row while a dead thread's
 * row still waits for its 'exit':
 *
 * | index | name        | written by                                  | read by       | meaning                                                                  |
 * |-------|-------------|---------------------------------------------|---------------|--------------------------------------------------------------------------|
 * | 0     | kRowThread  | owner (thread appears: its id; exits: 0)    | worker, owner | the threadId this row belongs to; 0 = free row                            |
 * | 1     | kRowRunning | owner zeroes it; then worker                | owner         | the thread's tasks between their start and their end, now                |
 * | 2     | kRowBusy    | owner zeroes it; then worker                | owner         | 1 from a task's start, and again from the call of its function, until the thread's next loop turn, or until its last task ends |
 * | 3     | kRowBlocked | owner zeroes it; then worker                | owner         | 1 while the thread is blocked in a sync wait (`sendSync`, `receiveSync`, ... through `syncWaitBegin`/`syncWaitEnd`) |
 * | 4     | kRowReady   | owner zeroes it; then worker, once          | owner         | 1 once the thread has loaded the worker entry (it can take tasks)  |
 *
 * Pool words (`PoolShared.bell`, Int32):
 *
 * | index | name  | written by | read by | meaning                                                                     |
 * |-------|-------|------------|---------|-----------------------------------------------------------------------------|
 * | 0     | kBell | owner      | workers | the cancellation doorbell (above)                                           |
 * | 1     | kKick | workers    | owner   | a thread may now take a held task: it became ready, came back to its event loop, or blocked in a sync wait |
 * | 2     | kHeld | owner      | workers | how many tasks the owner holds because no thread could start them at once  |
 *
 * Held tasks (worker-pool.ts): a task is posted to a thread only when that
 * thread can start it at once; otherwise the owner holds it, so that no task
 * ever waits behind one that blocks its thread in a sync wait (Go hands a
 * blocked thread's work to another). A worker rings kKick only while kHeld >
 * 0: it stores its hint (busy 0, blocked 1, ready 1) and then reads kHeld; the
 * owner adds to kHeld and then reads the hints; with sequentially consistent
 * Atomics one of the two sees the other's write, so a held task is never left
 * without a kick.
 *
 * The owner writes kRowRunning and kRowBusy before kRowThread, and a thread
 * writes its row only after finding its id in kRowThread, so it never writes
 * a row before the row is reset. Both hints are current values, not running
 * totals, so nothing can drift: a task that never reached its thread (a
 * payload that could not be cloned) is in neither Piscina's count nor
 * kRowRunning. The hints are read without a lock: a stale value changes only
 * which thread the next task goes to.
 */
import type { MessagePort } from 'node:worker_threads'

export const kState = 0
export const kThread = 1
export const kArgsTaken = 2
export const kPhase = 3
export const CONTROL_BYTES = 4 * Int32Array.BYTES_PER_ELEMENT

export const PHASE_WAITING = 0
export const PHASE_CALLED = 1
export const PHASE_DROPPED = 2
export const PHASE_ANSWERED = 3

export const STATE_RUNNING = 0
export const STATE_CANCEL_REQUESTED = 1

/** Control blocks per pool slab; more tasks at once than this get blocks of their own. */
export const SLAB_SLOTS = 1024
/** Indexes of the pool words in `PoolShared.bell` (the table above). */
export const kBell = 0
export const kKick = 1
export const kHeld = 2
export const POOL_WORDS = 3

/** Thread board rows: see the table above. */
export const kRowThread = 0
export const kRowRunning = 1
export const kRowBusy = 2
export const kRowBlocked = 3
export const kRowReady = 4
export const BOARD_ROW_INTS = 5
export const BOARD_ROWS_PER_WORKER = 2
export const BOARD_SPARE_ROWS = 4

/** What a pool shares with every one of its threads, in `workerData.gotrioBoot.shared`. */
export interface PoolShared {
  /** SLAB_SLOTS control blocks, CONTROL_BYTES each. */
  readonly slab: SharedArrayBuffer
  /** POOL_WORDS Int32: the cancellation doorbell, the kick word, the held count. */
  readonly bell: SharedArrayBuffer
  /** The thread board: BOARD_ROW_INTS Int32 per row. */
  readonly board: SharedArrayBuffer
}

/** The control block of slot `slot` in a slab (a view: index 0 is kState). */
export function slotView(slab: SharedArrayBuffer, slot: number): Int32Array {
  return new Int32Array(slab, slot * CONTROL_BYTES, CONTROL_BYTES / Int32Array.BYTES_PER_ELEMENT)
}

export interface TaskPayload {
  /** Module URL of the task function. */
  readonly module: string
  /** Export name of the task function. */
  readonly name: string
  /** Arguments, with transferable objects replaced by markers (transfer.ts). */
  readonly args: unknown
  /** The task's control block: a slot of the pool's slab (`PoolShared`)... */
  readonly slot?: number
  /** ...or, when every slot was taken, a block of its own. Exactly one of the two is set. */
  readonly control?: SharedArrayBuffer
  /** For `Nursery.start`: the port on which `started(value)` is posted. */
  readonly startedPort?: MessagePort
  /** Bootstraps registered after the pool was made (the pool's workerData holds the earlier ones). */
  readonly bootstraps?: { module: string; data: unknown }[]
}

export type TaskResult =
  | { readonly kind: 'ok'; readonly value: unknown }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'cancelled' }

/** Message posted on `startedPort`. */
export interface StartedMessage {
  readonly value: unknown
}
