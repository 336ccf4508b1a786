/**
 * This thread's side of cross-thread deadlock detection (detector.ts has the
 * protocol and its argument): what the thread publishes on the deadlock board
 * (board.ts), how it answers a probe, and how it tells whether its event loop
 * holds anything that is not gotrio's own (`quietHere`).
 *
 * Thread contract: everything in this module is thread-local except the
 * board, which is written only through Atomics, and only the row this thread
 * claimed (plus the header words kProbe/kAnswers as board.ts says).
 */
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads'
import { allStatuses, current } from '../context.ts'
import { currentEffectiveDeadline } from '../deadlines.ts'
import { activity, parked } from '../status.ts'
import { onWorkerExit, registerWorkerBootstrap, setSyncBlockedHook } from '../threads.ts'
import {
  KIND_POOL,
  claimRow,
  releaseRow,
  readText,
  rTid,
  ROWS,
  kAnswers,
  kWantLists,
  kProbe,
  makeBoard,
  rAct,
  rEpoch,
  rKind,
  rOutstanding,
  rParked,
  rQuiet,
  rRunning,
  rowBase,
  writeText,
  type Board,
} from './board.ts'

/** The process's board: made here on the main thread, adopted by workers in `bootstrapWorker`. */
let board: Board | undefined = isMainThread ? makeBoard() : undefined
/** This thread's row, -1 until claimed (never on the main thread: the detector reads main directly). */
let row = -1
/** A thread of a gotrio pool: Piscina's task port is then ours too. */
let poolThread = false
/** worker-entry's tasks running in this thread (noteRunning). */
let runningHere = 0
/** Worker tasks this thread started and whose outcome it has not handled yet. */
let outstanding = 0

export function theBoard(): Board | undefined {
  return board
}

registerWorkerBootstrap(import.meta.url, () => board?.sab)
// A thread of one of this thread's pools died or was shut down: its row goes (a dead thread
// with tasks on its row would otherwise block detection for good).
onWorkerExit((tid) => {
  if (board) releaseRow(board, tid)
})

/** Worker bootstrap (threads.ts): adopt the board, claim a row, answer probes. */
export function bootstrapWorker(data: unknown): void {
  if (!(data instanceof SharedArrayBuffer) || board) return
  board = makeBoard(data)
  row = claimRow(board, threadId)
  if (row < 0) return
  // A thread started by a gotrio pool (worker-boot.mjs reads the same workerData):
  // Piscina parks it in Atomics.wait whenever it has no task.
  if ((workerData as { gotrioBoot?: unknown } | undefined)?.gotrioBoot !== undefined) {
    poolThread = true
    Atomics.store(board.i32, rowBase(row) + rKind, KIND_POOL)
  }
  watchProbes(board)
  const b = board
  setSyncBlockedHook((waitsOn) => answerBlocked(b, waitsOn))
}

// ---- what the thread publishes as it goes ------------------------------------

/** worker-entry.ts, at every task start and end: how many tasks run here. */
export function noteRunning(n: number): void {
  runningHere = n
  if (row < 0) return
  Atomics.store(board!.i32, rowBase(row) + rRunning, n)
}

/** worker-task.ts: a worker task was handed to the pool (+1) / its outcome was handled (-1). */
export function noteOutstanding(delta: number): void {
  outstanding += delta
  if (row >= 0) Atomics.store(board!.i32, rowBase(row) + rOutstanding, outstanding)
}

export function outstandingHere(): number {
  return outstanding
}

// ---- gotrio's own handles ------------------------------------------------------

/** MessagePorts that belong to gotrio in this thread (the ports of our pools' threads). */
const ownPorts = new WeakSet<object>()
/** Counts of ref'd timers that belong to gotrio (the shared channels' keep-alive), by provider. */
const ownTimers = new Set<() => number>()

/** @internal lowlevel: a primitive says how many ref'd timers of this thread are its own (e.g. a keep-alive). */
export function registerOwnTimers(count: () => number): void {
  ownTimers.add(count)
}

let piscinaWorkerData: symbol | null | undefined
/** Thread ids whose port is noted (a thread id is never reused in a process). */
const notedThreads = new Set<number>()
/**
 * balancer.ts, for the thread a task goes to: remembers that thread's Piscina
 * task port as gotrio's own (Piscina refs it while the thread has tasks).
 * Piscina keeps the port behind a symbol of its own; if a Piscina version
 * hides it elsewhere, the port stays unknown, counts as foreign, and the
 * detector just never fires (never a false report).
 */
export function notePoolThread(candidate: { readonly id: number }): void {
  if (notedThreads.has(candidate.id)) return
  notedThreads.add(candidate.id)
  if (piscinaWorkerData === undefined) {
    piscinaWorkerData = Object.getOwnPropertySymbols(candidate).find((s) => s.description === 'Piscina.kWorkerData') ?? null
  }
  if (piscinaWorkerData === null) return
  const port = (candidate as Record<symbol, { port?: object } | undefined>)[piscinaWorkerData]?.port
  if (port) ownPorts.add(port)
}

interface ProcessWithHandles {
  _getActiveHandles?: () => unknown[]
}

/**
 * Whether this thread's event loop holds nothing but gotrio's own handles:
 * no timer (a sleep, a deadline), no socket, no file operation, no
 * immediate, no port or worker of the program's. Compares what Node says
 * keeps the loop alive (`getActiveResourcesInfo`: one entry per ref'd handle,
 * request and timer, by type) with what is known to be gotrio's.
 *
 * Never counting too much is what makes this safe (a handle wrongly counted
 * as ours could hide one of the program's): handles are recognised by
 * identity (`_getActiveHandles` lists only ref'd ones, so each match is an
 * entry that exists); the two things counted without identity are capped by
 * the entries of their own type: Piscina's task port in a pool thread
 * (listened to for good once a task has arrived through it, so counted only
 * while a task runs here) and the timers primitives declare
 * (`registerOwnTimers`: the shared channels' keep-alive, counted while held).
 */
export function quietHere(): boolean {
  const resources = process.getActiveResourcesInfo()
  const getHandles = (process as unknown as ProcessWithHandles)._getActiveHandles
  if (typeof getHandles !== 'function') return false
  const handles = getHandles.call(process)
  let ports = 0
  let timeouts = 0
  for (const r of resources) {
    if (r === 'MessagePort') ports++
    else if (r === 'Timeout') timeouts++
  }
  let own = 0
  let ownPortsSeen = 0
  // stdout/stderr: a pipe or TTY handle the program never waits on (a pending write is a request and counts).
  const out = isMainThread ? process.stdout : undefined
  const err = isMainThread ? process.stderr : undefined
  for (const h of handles) {
    if (h !== undefined && (h === out || h === err)) own++
    else if (h === parentPort || ownPorts.has(h as object)) {
      own++
      ownPortsSeen++
    }
  }
  // Piscina's task port, in a pool thread that runs a task (the task came through it).
  if (poolThread && runningHere > 0 && ports - ownPortsSeen >= 1) own++
  let ownTimerCount = 0
  for (const count of ownTimers) ownTimerCount += count()
  own += Math.min(ownTimerCount, timeouts)
  return resources.length === own
}

// ---- answering probes ----------------------------------------------------------

/** The waiting operations of this thread, with their tasks. */
type WaitingEntry = { task: string; waitsOn: string; thread?: number }
export function waitingHere(): WaitingEntry[] {
  const out: WaitingEntry[] = []
  for (const node of allStatuses()) {
    for (const op of node.waiters()) {
      const w: WaitingEntry = { task: op.task?.name ?? '?', waitsOn: op.waitsOn }
      if (!isMainThread) w.thread = threadId
      out.push(w)
    }
  }
  return out
}

/**
 * One Atomics.waitAsync on kProbe for the thread's life. The answer is made
 * in the waitAsync's promise reaction: the first microtask after the wake-up
 * task, so no other code of this thread is half-way through anything.
 */
function watchProbes(b: Board): void {
  let seen = Atomics.load(b.i32, kProbe)
  const watch = (): void => {
    for (;;) {
      const w = Atomics.waitAsync(b.i32, kProbe, seen)
      if (w.async) {
        void w.value.then(() => {
          seen = Atomics.load(b.i32, kProbe)
          answer(b, seen)
          watch()
        })
        return
      }
      seen = Atomics.load(b.i32, kProbe)
      answer(b, seen)
    }
  }
  watch()
}

/**
 * The answer of a thread blocked in a registered *Sync wait (threads.ts
 * `syncWaitSlice`, once per wait slice of at most ~20 ms), whose event loop
 * cannot run `watchProbes`'s reaction. At most once per probe epoch (a row
 * already answered for this epoch is left as it is). The thread counts as
 * quiet: nothing of it can run until another thread changes what it waits on
 * (a value, a close, a cancellation through the doorbell word), unless one of
 * its own cancel scopes has a deadline (`cancelRequestedSync` expires it
 * between slices): then it is not quiet. Its activity counter does not move
 * while it stays blocked, and moves when the call returns or throws
 * (`syncWaitEnd`), so two ticks that see the same counters saw it blocked in
 * between, as detector.ts requires.
 */
function answerBlocked(b: Board, waitsOn: string): void {
  if (row < 0) return
  const epoch = Atomics.load(b.i32, kProbe)
  if (Atomics.load(b.i32, rowBase(row) + rEpoch) === epoch) return
  const blocked = { task: current().task?.name ?? '?', waitsOn, thread: threadId }
  writeAnswer(b, epoch, currentEffectiveDeadline() === Infinity, parked() + 1, blocked)
}

function answer(b: Board, epoch: number): void {
  writeAnswer(b, epoch, quietHere(), parked(), undefined)
}

/**
 * Writes this thread's answer to probe `epoch`: every field before rEpoch
 * (board.ts: a detector that reads rEpoch === epoch then reads this answer's
 * fields), then counts it and wakes the detector. The waiting list only
 * matters for a thread that may be stuck (or when a dump asks): skipped otherwise.
 */
function writeAnswer(b: Board, epoch: number, quiet: boolean, parkedOps: number, blocked: WaitingEntry | undefined): void {
  const base = rowBase(row)
  Atomics.store(b.i32, base + rAct, activity())
  Atomics.store(b.i32, base + rParked, parkedOps)
  Atomics.store(b.i32, base + rQuiet, quiet ? 1 : 0)
  Atomics.store(b.i32, base + rOutstanding, outstanding)
  let list = '[]'
  if (quiet || Atomics.load(b.i32, kWantLists) !== 0) {
    const waiting = waitingHere()
    if (blocked !== undefined) waiting.push(blocked)
    list = JSON.stringify(waiting)
  }
  writeText(b, row, list)
  Atomics.store(b.i32, base + rEpoch, epoch)
  Atomics.add(b.i32, kAnswers, 1)
  Atomics.notify(b.i32, kAnswers)
}

// ---- dumpTasks across threads ---------------------------------------------------

/** What the other threads said when asked for a dump: per thread, its list, or that it did not answer. */
export interface ThreadDump {
  readonly thread: number
  /** Undefined: the thread has tasks but did not answer in time (busy computing). */
  readonly waiting: { task: string; waitsOn: string; thread?: number }[] | undefined
}

/**
 * How long a dump waits for the other threads' answers (it returns as soon as
 * all have answered; only a thread busy computing makes it wait this long). At
 * 250 ms a worker's answer sometimes missed it on a 2-core machine at load ~8.
 */
const DUMP_WAIT_MS = 1000

/**
 * Asks every other gotrio thread for its waiting tasks and waits for the
 * answers, blocking this thread for at most DUMP_WAIT_MS (Atomics.wait: the
 * others answer from their own event loops). For dumpTasks() and the dump
 * signal: diagnostics, not a hot path. Pool threads with no task do not
 * answer and have nothing to list.
 */
export function dumpOtherThreads(): ThreadDump[] {
  const b = board
  if (!b) return []
  const i32 = b.i32
  Atomics.add(i32, kWantLists, 1)
  try {
    const epoch = Atomics.add(i32, kProbe, 1) + 1
    Atomics.notify(i32, kProbe)
    const deadline = Date.now() + DUMP_WAIT_MS
    for (;;) {
      const seen = Atomics.load(i32, kAnswers)
      if (othersAnswered(b, epoch)) break
      const left = deadline - Date.now()
      if (left <= 0) break
      Atomics.wait(i32, kAnswers, seen, left)
    }
    const out: ThreadDump[] = []
    for (let r = 0; r < ROWS; r++) {
      const base = rowBase(r)
      const tid = Atomics.load(i32, base + rTid) - 1
      if (tid < 0 || r === row) continue
      if (Atomics.load(i32, base + rEpoch) - epoch < 0) {
        if (Atomics.load(i32, base + rRunning) !== 0 || Atomics.load(i32, base + rKind) !== KIND_POOL)
          out.push({ thread: tid, waiting: undefined })
        continue
      }
      let waiting: ThreadDump['waiting']
      try {
        waiting = JSON.parse(readText(b, r)) as ThreadDump['waiting']
      } catch {
        waiting = [{ task: `thread ${tid}`, waitsOn: '(too many waiting tasks to list)', thread: tid }]
      }
      if (waiting!.length > 0) out.push({ thread: tid, waiting })
    }
    return out
  } finally {
    Atomics.sub(i32, kWantLists, 1)
  }
}

function othersAnswered(b: Board, epoch: number): boolean {
  for (let r = 0; r < ROWS; r++) {
    const base = rowBase(r)
    if (r === row || Atomics.load(b.i32, base + rTid) === 0) continue
    if (Atomics.load(b.i32, base + rRunning) === 0 && Atomics.load(b.i32, base + rKind) === KIND_POOL) continue
    if (Atomics.load(b.i32, base + rEpoch) - epoch < 0) return false
  }
  return true
}
