/**
 * Counters and an event trace for phases.ts, installed in every thread that imports this module
 * (the main thread and the worker that runs phases-task.ts): Atomics.wait / waitAsync / notify
 * calls, each park of a spin budget (its budget before and after, and how long it was parked),
 * spins that took longer than 50 µs (and whether they saw the change), and GC pauses over 0.1 ms.
 *
 * A developer's tool: it wraps the library's internals (spin.ts SpinBudget, ring.ts Ring) by
 * patching their prototypes, so it measures the code as it is, with the wrappers' small cost.
 * Times are absolute (performance.timeOrigin + now(), ms), comparable across threads.
 */
import { PerformanceObserver } from 'node:perf_hooks'
import { threadId } from 'node:worker_threads'
import { Ring } from '../../../channels/src/shared/ring.ts'
import { SpinBudget } from '../../../channels/src/shared/spin.ts'

export interface Counts {
  wait: number
  waitAsync: number
  notify: number
}
const counts: Counts = { wait: 0, waitAsync: 0, notify: 0 }
/** One event: its absolute time (ms), the thread, a label, and a duration in ms. */
export type Event = [at: number, thread: number, label: string, ms: number]
const events: Event[] = []
const abs = (): number => performance.timeOrigin + performance.now()

type AtomicsFns = {
  wait: (...a: unknown[]) => string
  waitAsync: (...a: unknown[]) => { async: boolean; value: Promise<string> | string }
  notify: (...a: unknown[]) => number
}
const A = Atomics as unknown as AtomicsFns
const { wait, waitAsync, notify } = A
A.wait = (...a) => {
  counts.wait++
  return wait.apply(Atomics, a)
}
A.waitAsync = (...a) => {
  counts.waitAsync++
  const t = abs()
  const r = waitAsync.apply(Atomics, a)
  if (r.async) void (r.value as Promise<string>).then(() => events.push([abs(), threadId, 'woken after', abs() - t]))
  return r
}
A.notify = (...a) => {
  counts.notify++
  const t = abs()
  const n = notify.apply(Atomics, a)
  if (n > 0) events.push([t, threadId, `notify woke ${n}, the call took`, abs() - t])
  return n
}

type BudgetInternals = { n: number; side: number; parked(ms: number): void }
const budget = SpinBudget.prototype as unknown as BudgetInternals
const parked = budget.parked
budget.parked = function (this: BudgetInternals, ms: number) {
  const before = this.n
  parked.call(this, ms)
  events.push([abs(), threadId, `${this.side ? 'receive' : 'send'} parked, budget ${before} -> ${this.n}, parked`, ms])
}

type RingInternals = { spinIfUseful(side: number): boolean; spinOffer(ticket: number): number }
const ring = Ring.prototype as unknown as RingInternals
const spinIfUseful = ring.spinIfUseful
ring.spinIfUseful = function (this: RingInternals, side: number) {
  const t = abs()
  const r = spinIfUseful.call(this, side)
  if (abs() - t > 0.05) events.push([t, threadId, `${side ? 'receive' : 'send'} spin ${r ? 'won' : 'lost'}`, abs() - t])
  return r
}
const spinOffer = ring.spinOffer
ring.spinOffer = function (this: RingInternals, ticket: number) {
  const t = abs()
  const r = spinOffer.call(this, ticket)
  if (abs() - t > 0.05) events.push([t, threadId, `offer spin result ${r}`, abs() - t])
  return r
}

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.duration > 0.1) events.push([performance.timeOrigin + e.startTime, threadId, 'GC', e.duration])
}).observe({ entryTypes: ['gc'] })

/** This thread's counters and events since the last call; resets them. */
export function take(): { counts: Counts; events: Event[] } {
  const out = { counts: { ...counts }, events: events.splice(0) }
  counts.wait = counts.waitAsync = counts.notify = 0
  return out
}
