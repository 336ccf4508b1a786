/**
 * The deadlock board: one SharedArrayBuffer per process, made on the main
 * thread and handed to every gotrio worker thread by a worker bootstrap
 * (threads.ts), so every thread of the program can be asked "are you stuck?"
 * and answer without a message port. The protocol that uses it, and why it
 * never reports a program that can still move, is at the top of detector.ts.
 *
 * Header (Int32):
 *
 * | index | name      | written by                  | meaning                                           |
 * |-------|-----------|-----------------------------|---------------------------------------------------|
 * | 0     | kProbe    | the detector (main thread)  | probe epoch; +1 and notify = "every thread answer" |
 * | 1     | kAnswers  | every answering thread      | +1 and notify per answer (the detector waits on it) |
| 2     | kWantLists | a thread dumping (dumpTasks) | > 0: answer with the waiting list even when not quiet |
 *
 * Rows (ROWS of ROW_INTS Int32, from HEADER_INTS), one per gotrio worker thread:
 *
 * | field        | written by                        | meaning                                                        |
 * |--------------|-----------------------------------|----------------------------------------------------------------|
 * | rTid         | the thread (claim, CAS 0 -> id+1); its pool's owner clears it at exit | threadId + 1; 0 = free row |
 * | rKind        | the thread                        | KIND_POOL once worker-entry ran a task here; KIND_OTHER before (a thread that ran the bootstraps itself) |
 * | rRunning     | the thread, at each task start/end | its worker tasks between start and end (worker-entry's `running`) |
 * | rOutstanding | the thread, at each change        | worker tasks it started on a pool and whose answer it has not handled |
 * | rEpoch       | the thread, last, when answering  | the probe epoch this row's answer is for                       |
 * | rAct         | the thread, when answering        | its activity counter (status.ts: parks and wakes)              |
 * | rParked      | the thread, when answering        | its parked gotrio operations                                   |
 * | rQuiet       | the thread, when answering        | 1 if its event loop holds nothing but gotrio's own handles     |
 * | rTextLen     | the thread, when answering        | bytes of its waiting-task list (JSON) in its text area          |
 *
 * The answer fields are written before rEpoch (all Atomics, sequentially
 * consistent), so a detector that reads rEpoch === its epoch reads that
 * answer's fields.
 */
export const kProbe = 0
export const kAnswers = 1
export const kWantLists = 2
export const HEADER_INTS = 4

export const rTid = 0
export const rKind = 1
export const rRunning = 2
export const rOutstanding = 3
export const rEpoch = 4
export const rAct = 5
export const rParked = 6
export const rQuiet = 7
export const rTextLen = 8
export const ROW_INTS = 12

export const KIND_OTHER = 0
export const KIND_POOL = 1

export const ROWS = 256
/** Bytes of one row's waiting-task list; a longer list is cut (the detector says so). */
export const TEXT_BYTES = 8192

const INTS = HEADER_INTS + ROWS * ROW_INTS
const BYTES = INTS * 4 + ROWS * TEXT_BYTES

export interface Board {
  readonly sab: SharedArrayBuffer
  readonly i32: Int32Array
  readonly u8: Uint8Array
}

export function makeBoard(sab: SharedArrayBuffer = new SharedArrayBuffer(BYTES)): Board {
  return { sab, i32: new Int32Array(sab, 0, INTS), u8: new Uint8Array(sab, INTS * 4) }
}

export function rowBase(row: number): number {
  return HEADER_INTS + row * ROW_INTS
}

/** Claims a free row for thread `tid`; -1 if every row is taken (that thread then blocks detection: see detector.ts). */
export function claimRow(b: Board, tid: number): number {
  for (let r = 0; r < ROWS; r++) {
    const base = rowBase(r)
    if (Atomics.load(b.i32, base + rTid) === tid + 1) return r
  }
  for (let r = 0; r < ROWS; r++) {
    const base = rowBase(r)
    if (Atomics.compareExchange(b.i32, base + rTid, 0, tid + 1) === 0) {
      for (let f = 1; f < ROW_INTS; f++) Atomics.store(b.i32, base + f, 0)
      return r
    }
  }
  return -1
}

/** Frees thread `tid`'s row (its thread has exited). */
export function releaseRow(b: Board, tid: number): void {
  for (let r = 0; r < ROWS; r++) {
    const base = rowBase(r)
    if (Atomics.load(b.i32, base + rTid) === tid + 1) {
      Atomics.store(b.i32, base + rRunning, 0)
      Atomics.store(b.i32, base + rOutstanding, 0)
      Atomics.store(b.i32, base + rTid, 0)
    }
  }
}

export function writeText(b: Board, row: number, text: string): void {
  const bytes = new TextEncoder().encode(text)
  const n = Math.min(bytes.length, TEXT_BYTES)
  b.u8.set(bytes.subarray(0, n), row * TEXT_BYTES)
  Atomics.store(b.i32, rowBase(row) + rTextLen, n)
}

export function readText(b: Board, row: number): string {
  const n = Atomics.load(b.i32, rowBase(row) + rTextLen)
  // Copied out first: TextDecoder refuses views of shared memory.
  return new TextDecoder().decode(b.u8.slice(row * TEXT_BYTES, row * TEXT_BYTES + n))
}
