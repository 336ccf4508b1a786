/**
 * The shared-memory layout of a shared sync primitive (`openSharedLock`,
 * `openSharedSemaphore`, `openSharedCapacityLimiter`, `openSharedEvent`): one
 * block of the process-wide arena (../arena.ts), linked into the arena's list
 * of sync primitives (A_SYNC) so that a dead thread's holdings can be found.
 * Waiting tasks are nodes (one small arena block each) in a FIFO list.
 *
 * Header (Int32 index relative to the block; "guard" = written only while
 * holding S_GUARD, the futex mutex of ../lock.ts):
 *
 * | idx | name       | written by                         | meaning                                                     |
 * |-----|------------|------------------------------------|-------------------------------------------------------------|
 * |  0  | S_GUARD    | any thread (CAS)                   | the primitive's mutex for its short critical sections       |
 * |  1  | S_GEN      | arena (link/unlink)                | generation; a stale descriptor compares it                  |
 * |  2  | S_KIND     | creator, then read-only            | KIND_LOCK / KIND_SEMAPHORE / KIND_LIMITER / KIND_EVENT        |
 * |  3  | S_NEXT     | arena lock                         | next live sync primitive (0 = none)                         |
 * |  4  | S_PREV     | arena lock                         | previous one (0 = none)                                     |
 * |  5  | S_HANDLES  | guard                              | open handles in every thread (moves do not change it)       |
 * |  6  | S_STATE    | lock: CAS (see cell.ts); else guard | lock: the lock word W; semaphore: value; limiter: borrowed  |
 * |     |            |                                    | tokens; event: 0 unset, 1 set (also its futex word)         |
 * |  7  | S_LIMIT    | creator; limiter: guard            | semaphore: maxValue (NO_MAX: none); limiter: totalTokens    |
 * |     |            |                                    | (LIMIT_INFINITE: Infinity)                                  |
 * |  8  | S_QHEAD    | guard                              | oldest waiting node (block offset, 0 = none)                |
 * |  9  | S_QTAIL    | guard                              | newest waiting node                                         |
 * | 10  | S_WAITING  | guard                              | tasks waiting, all threads (queue length; event: waiters)   |
 * | 11  | S_POISONED | guard                              | lock: 1 once a thread died holding it                       |
 * |12-15| -          | -                                  | padding (the owner table starts on a 64-byte line)          |
 * | 16..| owner table| guard                              | OWNERS × [threadId+1, handles, held, waiting]; 0 = free     |
 *
 * The lock word W (S_STATE of a lock): 0 when free; otherwise
 * `(holderThreadId + 1) << 1 | CONTENDED`, CONTENDED set exactly while the
 * queue is non-empty (cell.ts, invariant K1).
 *
 * Node (a 64-byte arena block): N_WORD the waiter's futex word (NODE_WAITING,
 * then NODE_GRANTED once the primitive is handed to it), N_NEXT the next
 * (newer) node, N_THREAD its thread's id + 1.
 */
export const S_GUARD = 0
export const S_GEN = 1
export const S_KIND = 2
export const S_NEXT = 3
export const S_PREV = 4
export const S_HANDLES = 5
export const S_STATE = 6
export const S_LIMIT = 7
export const S_QHEAD = 8
export const S_QTAIL = 9
export const S_WAITING = 10
export const S_POISONED = 11
export const S_OWNERS = 16

export const O_THREAD = 0
export const O_HANDLES = 1
/** Lock: unused (the holder is in W); semaphore: tokens acquired minus released by the thread (>= 0); limiter: tokens held. */
export const O_HELD = 2
/** Event: the thread's registered waiters. */
export const O_WAITING = 3
export const OWNER_FIELDS = 4
/** Threads tracked per primitive (as for channels: the main thread and 63 workers). */
export const OWNERS = 64
export const HEADER_WORDS = S_OWNERS + OWNERS * OWNER_FIELDS
export const BLOCK_BYTES = HEADER_WORDS * 4

export const KIND_LOCK = 1
export const KIND_SEMAPHORE = 2
export const KIND_LIMITER = 3
export const KIND_EVENT = 4

/** The lock word's bit: someone waits in the queue. */
export const CONTENDED = 1
export const NO_MAX = -1
/** S_LIMIT of a limiter with totalTokens Infinity; finite totals are below it. */
export const LIMIT_INFINITE = 0x7fffffff

export const N_WORD = 0
export const N_NEXT = 1
export const N_THREAD = 2
export const NODE_BYTES = 16
export const NODE_WAITING = 0
export const NODE_GRANTED = 1
