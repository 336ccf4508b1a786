/**
 * Deadlock detection across threads (Go's "all goroutines are asleep -
 * deadlock!", whatever goroutine waits). `run` on the main thread already
 * catches the single-thread case with Node's `beforeExit`; once worker tasks
 * are involved, the pool's ports keep the main thread's loop alive and
 * `beforeExit` never comes. This detector covers that case.
 *
 * What is declared. A deadlock is declared only when, at one moment,
 *  (a) no thread of the program can run code: every thread's event loop is
 *      empty but for gotrio's own handles (no timer, socket, file request,
 *      immediate, or port or worker of the program's: `quietHere`), or the
 *      thread is a pool thread with no task at all (Piscina parks it in
 *      Atomics.wait until a task is posted to it);
 *  (b) nothing is on its way between threads: every worker task handed to a
 *      pool is running on a thread (none queued, none whose answer is not yet
 *      handled): the sum over threads of "tasks I started, outcome not handled"
 *      equals the sum of "tasks running on me";
 *  (c) every thread that may hold a gotrio handle is known: it ran gotrio's
 *      worker bootstraps, so it has a row on the board; a known thread that is
 *      not a pool thread (one that ran the bootstraps itself) blocks detection.
 * Then no thread can ever run again: a thread only leaves (a) when something
 * wakes it, and the only wake-ups left would come from another thread (a
 * posted task, a channel notify, a cancel doorbell, a port message), which
 * needs that thread to run first. Every waiting operation then waits on
 * something only stuck tasks could provide; in particular every handle of a
 * channel being waited on is held by a stuck thread or sits inside a stuck
 * channel (handles in flight inside a task are excluded by (b)).
 *
 * How "one moment" is observed (a consistent cut, by double collect). The
 * detector runs on the main thread from an unref'd timer, every TICK_MS. A
 * tick first measures the main thread (a timer callback: nothing of main is
 * half-way through), then bumps the probe epoch (board.ts kProbe) and
 * notifies; each worker thread answers in the first microtask after the
 * wake-up, publishing its activity counter (status.ts: +1 at every park and
 * every wake), its parked count, whether it is quiet, and its waiting list.
 * A pool thread with no task does not answer (it is in Atomics.wait); its
 * rRunning, written at every task start and end, says it has none. A tick
 * whose observations satisfy (a)-(c) is a *candidate*; a deadlock is
 * declared when two consecutive ticks are candidates with identical
 * snapshots (every thread's activity, parked, running and outstanding
 * counts). Every observation of the second tick happens after every
 * observation of the first (the second tick starts after the first has read
 * all answers). A thread that ran gotrio code between its two observations
 * changed its counters, unless it ran code that neither parked nor woke
 * anything; it could only have run after a wake-up, and a wake-up either
 * completes a parked operation (counted), starts a task (rRunning and the
 * owner's count), or changes nothing. Wake-ups sent before the first tick's
 * last answer reach their thread before the second tick's probe: both are
 * tasks posted to that thread's isolate in the order they were sent, and the
 * probe is sent later. So at the moment the first tick's last observation was
 * made, every thread was stuck with nothing on its way to it, which is (a)-(c)
 * at one instant, hence forever.
 *
 * A worker blocked in a *Sync call (`receiveSync`, `sendSync`,
 * `receiveManySync`, `selectSync`, a shared lock's `acquireSync`, a shared
 * event's `waitSync`) cannot run its loop; the call answers between its wait slices
 * instead (local.ts `answerBlocked`), as quiet unless a deadline of its own
 * scopes will end it. It leaves that state only when another thread changes
 * what it waits on, and its activity counter moves when the call returns.
 *
 * What is not detected (never a false report; these simply hang as before):
 * a thread of the program's own that holds a handle (a Worker you made, a
 * MessagePort you listen to: they count as foreign handles), a `start()` of a
 * worker task still waiting for `started()` (its port is counted as foreign),
 * nested pools on a thread with more than ROWS threads in the process, and a
 * raw `Atomics.waitAsync` of the program's (invisible to Node and to us, as
 * on a single thread).
 */
import { activity, parked } from '../status.ts'
import type { WaitingTask } from '../errors.ts'
import {
  KIND_POOL,
  ROWS,
  kAnswers,
  kProbe,
  rAct,
  rEpoch,
  rKind,
  rOutstanding,
  rParked,
  rQuiet,
  rRunning,
  rTid,
  readText,
  rowBase,
  type Board,
} from './board.ts'
import { outstandingHere, quietHere, theBoard } from './local.ts'

/** How often the main thread looks; a deadlock is reported within about 2-3 ticks. */
export const TICK_MS = 200
/** How long a tick waits for the answers of threads that have tasks. */
const ANSWER_MS = 100

export interface DetectorOptions {
  /** The main thread's waiting operations of the `run` being watched. */
  readonly waitingHere: () => WaitingTask[]
  /** Called once, with every waiting task of every thread, when a deadlock is certain. */
  readonly onDeadlock: (waiting: WaitingTask[]) => void
}

/** Starts watching; returns the function that stops it. */
export function startDetector(opts: DetectorOptions): () => void {
  const board = theBoard()
  if (!board) return () => {}
  let stopped = false
  let busy = false
  let previous: string | undefined
  const tick = (): void => {
    if (busy || stopped) return
    busy = true
    void look(board).then(
      (snap) => {
        busy = false
        if (stopped) return
        if (snap === undefined) {
          previous = undefined
          return
        }
        if (snap.key === previous) {
          stopped = true
          clearInterval(timer)
          opts.onDeadlock([...opts.waitingHere(), ...snap.others])
          return
        }
        previous = snap.key
      },
      () => {
        busy = false
        previous = undefined
      },
    )
  }
  const timer = setInterval(tick, TICK_MS)
  timer.unref()
  return () => {
    stopped = true
    clearInterval(timer)
  }
}

interface Snapshot {
  /** Every counter observed, as text: two equal keys in a row declare the deadlock. */
  readonly key: string
  readonly others: WaitingTask[]
}

/** One tick: undefined unless this tick is a candidate (see the top of the file). */
async function look(board: Board): Promise<Snapshot | undefined> {
  // The main thread first, from the timer callback itself.
  if (!quietHere()) return undefined
  const mainAct = activity()
  const mainParked = parked()
  const mainOutstanding = outstandingHere()
  const i32 = board.i32
  // Which threads must answer: every known thread with a task.
  const epoch = Atomics.add(i32, kProbe, 1) + 1
  Atomics.notify(i32, kProbe)
  const deadline = Date.now() + ANSWER_MS
  for (;;) {
    const seen = Atomics.load(i32, kAnswers)
    if (allAnswered(board, epoch)) break
    const left = deadline - Date.now()
    if (left <= 0) return undefined // a thread with tasks did not answer: it is busy
    const w = Atomics.waitAsync(i32, kAnswers, seen, left)
    if (w.async) await w.value
  }
  let outstanding = mainOutstanding
  let running = 0
  const parts = [`main:${mainAct}:${mainParked}:${mainOutstanding}`]
  const others: WaitingTask[] = []
  for (let r = 0; r < ROWS; r++) {
    const base = rowBase(r)
    const tid = Atomics.load(i32, base + rTid)
    if (tid === 0) continue
    if (Atomics.load(i32, base + rKind) !== KIND_POOL) return undefined // (c): a thread we cannot judge
    const run = Atomics.load(i32, base + rRunning)
    running += run
    if (Atomics.load(i32, base + rEpoch) !== epoch) {
      // Did not answer. Only a pool thread with no task may stay silent (in Piscina's Atomics.wait).
      if (run !== 0) return undefined
      const out = Atomics.load(i32, base + rOutstanding)
      if (out !== 0) return undefined
      parts.push(`${tid}:idle`)
      continue
    }
    if (Atomics.load(i32, base + rQuiet) !== 1) return undefined
    const out = Atomics.load(i32, base + rOutstanding)
    outstanding += out
    parts.push(`${tid}:${Atomics.load(i32, base + rAct)}:${Atomics.load(i32, base + rParked)}:${run}:${out}`)
    if (Atomics.load(i32, base + rParked) > 0) {
      try {
        others.push(...(JSON.parse(readText(board, r)) as WaitingTask[]))
      } catch {
        others.push({ task: `thread ${tid - 1}`, waitsOn: '(its list of waiting tasks was too long to show)', thread: tid - 1 })
      }
    }
  }
  if (outstanding !== running) return undefined // (b): a task is queued, or an answer is on its way
  return { key: parts.join(' '), others }
}

/** True when every known thread that has a task answered probe `epoch`. */
function allAnswered(board: Board, epoch: number): boolean {
  const i32 = board.i32
  for (let r = 0; r < ROWS; r++) {
    const base = rowBase(r)
    if (Atomics.load(i32, base + rTid) === 0) continue
    if (Atomics.load(i32, base + rRunning) === 0 && Atomics.load(i32, base + rKind) === KIND_POOL) continue
    if (Atomics.load(i32, base + rEpoch) !== epoch) return false
  }
  return true
}
