/**
 * Model-based testing of a channel kind against `TrioChannelModel`.
 *
 * A *program* is a random list of commands (`Command`). Both the model and a
 * real channel run it, command by command; after each command the real
 * system is let settle (`waitAllTasksBlocked`) and every observable is
 * compared: the result or error class of each non-blocking call, how every
 * blocking task stands (still waiting / completed with which value / failed
 * with which error class), and all `statistics()` fields. Values are unique
 * (a counter), so the per-task values also check FIFO order and that nothing
 * is lost or delivered twice.
 *
 * The real side: each blocking operation (`send`, `receive`, an iterator's
 * `next()`) runs in its own task of one nursery, inside its own
 * `CancelScope`; the `cancel` command cancels that scope. At the end of a
 * program every task still waiting is cancelled (and compared once more), so
 * the nursery closes.
 *
 * Handle and task references in commands are small integers taken modulo the
 * number of handles (or waiting tasks) at the time, so every generated
 * program is valid and fast-check can shrink a failing one by dropping
 * commands.
 */
import { CancelScope, Cancelled, openNursery } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import fc from 'fast-check'
import { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } from '../../src/errors.js'
import type { ChannelStatistics, ReceiveChannel, SendChannel } from '../../src/types.js'
import { TrioChannelModel, type NowaitResult, type Outcome, type ReceiveKind } from './trio-channel-model.js'

export type OpenChannel = <T>(maxBufferSize: number) => [SendChannel<T>, ReceiveChannel<T>]

export type Command =
  | { readonly op: 'send'; readonly h: number }
  | { readonly op: 'receive'; readonly h: number; readonly kind: ReceiveKind }
  | { readonly op: 'sendNowait'; readonly h: number }
  | { readonly op: 'receiveNowait'; readonly h: number }
  | { readonly op: 'cloneSend'; readonly h: number }
  | { readonly op: 'cloneReceive'; readonly h: number }
  | { readonly op: 'closeSend'; readonly h: number }
  | { readonly op: 'closeReceive'; readonly h: number }
  | { readonly op: 'cancel'; readonly t: number }
  | { readonly op: 'statistics'; readonly side: 'send' | 'receive'; readonly h: number }

const h = fc.nat(7)
/** Weights: mostly blocking traffic, enough nowait calls, clones, closes and cancels to reach every state. */
export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('send' as const), h }) },
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant('receive' as const), h, kind: fc.constantFrom<ReceiveKind>('receive', 'receive', 'next') }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('sendNowait' as const), h }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('receiveNowait' as const), h }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cloneSend' as const), h }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cloneReceive' as const), h }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('closeSend' as const), h }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('closeReceive' as const), h }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('cancel' as const), t: fc.nat(7) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('statistics' as const), side: fc.constantFrom<'send' | 'receive'>('send', 'receive'), h }),
  },
)

export const programArb = (maxLength: number): fc.Arbitrary<Command[]> => fc.array(commandArb, { maxLength, size: 'max' })

/** The error class of `e`, by name; anything else is reported in full so a mismatch shows it. */
export function errorName(e: unknown): string {
  for (const C of [WouldBlock, EndOfChannel, ClosedResourceError, BrokenResourceError, Cancelled]) {
    if (e instanceof C) return C.name
  }
  return `unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`
}

/** Thrown when the real channel and the model disagree; says at which command and what differed. */
export class ModelMismatch extends Error {
  override name = 'ModelMismatch'
}

/** JSON with sorted keys, Infinity spelled out and undefined fields dropped: what "equal" means here. */
function show(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => {
    if (v === Infinity) return 'Infinity'
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    }
    return v
  })
}

function check(step: string, what: string, real: unknown, model: unknown): void {
  const r = show(real)
  const m = show(model)
  if (r !== m) throw new ModelMismatch(`${step}: ${what} differs\n  real:  ${r}\n  model: ${m}`)
}

/** Calls a non-blocking method and describes its result like the model does. */
function nowait(f: () => unknown): NowaitResult | { ok: false; error: string } {
  try {
    return { ok: true, value: f() }
  } catch (e) {
    return { ok: false, error: errorName(e) }
  }
}

interface RealTask {
  readonly scope: CancelScope
  outcome: Outcome | { state: 'error'; error: string }
}

/**
 * Runs `program` on the model and on a channel from `open(capacity)`.
 * Resolves if they agree at every step; rejects with `ModelMismatch` otherwise.
 */
export async function runProgram(
  open: OpenChannel,
  capacity: number,
  program: readonly Command[],
  options: Pick<ModelPropertyOptions, 'ignoreStatistics'> = {},
): Promise<void> {
  const ignored = options.ignoreStatistics ?? []
  /** statistics() without the fields the caller chose not to compare. */
  const stats = (x: object): object =>
    Object.fromEntries(Object.entries(x).filter(([k]) => !ignored.includes(k as keyof ChannelStatistics)))
  const model = new TrioChannelModel(capacity)
  const [s0, r0] = open<number>(capacity)
  const sends: SendChannel<number>[] = [s0]
  const receives: ReceiveChannel<number>[] = [r0]
  const tasks = new Map<number, RealTask>()
  let nextValue = 0
  let nextTask = 0

  const compareAll = (step: string): void => {
    model.checkInvariants()
    const realOutcomes = [...tasks].map(([t, x]) => [t, x.outcome])
    const modelOutcomes = [...tasks.keys()].map((t) => [t, model.outcomes.get(t)])
    check(step, 'task outcomes [task, outcome]', realOutcomes, modelOutcomes)
    check(step, 'statistics()', stats(r0.statistics()), stats(model.statistics()))
    ;(s0 as { _checkInvariants?: () => void })._checkInvariants?.()
  }

  try {
    await drive()
  } catch (e) {
    // The mismatch is thrown in the nursery's body: report it bare, not grouped.
    if (e instanceof AggregateError && e.errors.length === 1 && e.errors[0] instanceof ModelMismatch) throw e.errors[0]
    throw e
  }

  async function drive(): Promise<void> {
    await openNursery(async (nursery) => {
      /** Starts a blocking operation in its own task and cancel scope. */
      const startTask = (id: number, op: () => Promise<unknown>): void => {
        const task: RealTask = { scope: new CancelScope(), outcome: { state: 'waiting' } }
        tasks.set(id, task)
        nursery.startSoon(async () => {
          try {
            await task.scope.run(async () => {
              const value = await op()
              task.outcome = value === undefined ? { state: 'ok' } : { state: 'ok', value }
            })
            if (task.scope.cancelledCaught) task.outcome = { state: 'error', error: 'Cancelled' }
          } catch (e) {
            task.outcome = { state: 'error', error: errorName(e) }
          }
        })
      }

      for (const [i, c] of program.entries()) {
        const step = `command ${i} ${JSON.stringify(c)} (capacity ${capacity})`
        switch (c.op) {
          case 'send': {
            const handle = c.h % sends.length
            const v = nextValue++
            const t = nextTask++
            model.send(t, handle, v)
            startTask(t, () => sends[handle]!.send(v))
            break
          }
          case 'receive': {
            const handle = c.h % receives.length
            const t = nextTask++
            model.receive(t, handle, c.kind)
            const r = receives[handle]!
            startTask(t, c.kind === 'receive' ? () => r.receive() : () => r[Symbol.asyncIterator]().next())
            break
          }
          case 'sendNowait': {
            const handle = c.h % sends.length
            const v = nextValue++
            check(
              step,
              'result',
              nowait(() => sends[handle]!.sendNowait(v)),
              model.sendNowait(handle, v),
            )
            break
          }
          case 'receiveNowait': {
            const handle = c.h % receives.length
            check(
              step,
              'result',
              nowait(() => receives[handle]!.receiveNowait()),
              model.receiveNowait(handle),
            )
            break
          }
          case 'cloneSend': {
            const handle = c.h % sends.length
            const real = nowait(() => sends[handle]!.clone())
            const expected = model.cloneSend(handle)
            if (real.ok) sends.push(real.value as SendChannel<number>)
            check(step, 'result', real.ok ? { ok: true, value: sends.length - 1 } : real, expected)
            break
          }
          case 'cloneReceive': {
            const handle = c.h % receives.length
            const real = nowait(() => receives[handle]!.clone())
            const expected = model.cloneReceive(handle)
            if (real.ok) receives.push(real.value as ReceiveChannel<number>)
            check(step, 'result', real.ok ? { ok: true, value: receives.length - 1 } : real, expected)
            break
          }
          case 'closeSend': {
            const handle = c.h % sends.length
            check(
              step,
              'result',
              nowait(() => sends[handle]!.close()),
              { ok: true },
            )
            model.closeSend(handle)
            break
          }
          case 'closeReceive': {
            const handle = c.h % receives.length
            check(
              step,
              'result',
              nowait(() => receives[handle]!.close()),
              { ok: true },
            )
            model.closeReceive(handle)
            break
          }
          case 'cancel': {
            const waiting = model.waitingTasks()
            if (waiting.length === 0) break
            const t = waiting[c.t % waiting.length]!
            model.cancel(t)
            tasks.get(t)!.scope.cancel()
            break
          }
          case 'statistics': {
            // Every handle, open or closed, reports the channel's statistics.
            const handle = c.side === 'send' ? sends[c.h % sends.length]! : receives[c.h % receives.length]!
            check(step, 'statistics() of this handle', stats(handle.statistics()), stats(model.statistics()))
            break
          }
        }
        await waitAllTasksBlocked()
        compareAll(step)
      }

      // Unblock the nursery: cancel every task still waiting, and compare once more.
      for (const t of model.waitingTasks()) {
        model.cancel(t)
        tasks.get(t)!.scope.cancel()
      }
      await waitAllTasksBlocked()
      compareAll('after cancelling every waiting task')
    })
  }
}

export interface ModelPropertyOptions {
  /** Capacities to draw from (default 0, 1, 2, 3 and Infinity). */
  capacities?: readonly number[]
  /** Programs per property (default: env GOTRIO_PROPERTY_RUNS, else 100). */
  numRuns?: number
  /** Longest program (default 40 commands). */
  maxCommands?: number
  seed?: number
  /** statistics() fields not compared (for a kind that documents a different meaning for them). */
  ignoreStatistics?: readonly (keyof ChannelStatistics)[]
}

export function propertyRuns(): number {
  const env = Number(process.env.GOTRIO_PROPERTY_RUNS)
  return Number.isInteger(env) && env > 0 ? env : 100
}

/** The property: for random capacities and programs, the channel from `open` agrees with the model. */
export function modelProperty(open: OpenChannel, options: ModelPropertyOptions = {}): fc.IAsyncPropertyWithHooks<[number, Command[]]> {
  const capacities = options.capacities ?? [0, 1, 2, 3, Infinity]
  return fc.asyncProperty(fc.constantFrom(...capacities), programArb(options.maxCommands ?? 40), async (capacity, program) => {
    await runProgram(open, capacity, program, options)
  })
}

/** fast-check parameters for `fc.assert` from the options (runs from GOTRIO_PROPERTY_RUNS). */
export function modelParameters(options: ModelPropertyOptions = {}): fc.Parameters<[number, Command[]]> {
  return { numRuns: options.numRuns ?? propertyRuns(), ...(options.seed !== undefined ? { seed: options.seed } : {}) }
}
