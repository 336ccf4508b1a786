/**
 * Model-based test of `select` on memory channels against SelectModel
 * (model/select-model.ts): random programs of blocking selects, selectNowait,
 * plain send/receive, cancellations and closes over three channels of random
 * capacities (0, 1, 2, Infinity). After every command the real program is let
 * settle and compared with the model: every task's outcome (waiting, which
 * case committed with which value, or which error), every selectNowait result,
 * and each channel's buffer and waiting counts. Values are unique, so a value
 * taken twice or lost shows. The real select's random choices are fed to the
 * model, which checks that each was a ready case.
 *
 * More runs: GOTRIO_PROPERTY_RUNS=2000.
 */
import { CancelScope, Cancelled, openNursery } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  BrokenResourceError,
  ClosedResourceError,
  EndOfChannel,
  WouldBlock,
  onReceive,
  onSend,
  openMemoryChannel,
  select,
  selectNowait,
  type MemoryReceiveChannel,
  type MemorySendChannel,
  type SelectCase,
} from '../src/index.js'
import { SelectModel, type Case, type Outcome } from './model/select-model.js'

type Command =
  | { readonly op: 'select'; readonly cases: readonly { ch: number; dir: 'send' | 'recv' }[] }
  | { readonly op: 'nowait'; readonly cases: readonly { ch: number; dir: 'send' | 'recv' }[] }
  | { readonly op: 'send' | 'receive'; readonly ch: number }
  | { readonly op: 'cancel'; readonly t: number }
  | { readonly op: 'closeSend' | 'closeReceive'; readonly ch: number }

const CH = 3
const ch = fc.nat(CH - 1)
/** Distinct (channel, direction) pairs: the model does not cover duplicates (select.test.ts does). */
const casesArb = fc.uniqueArray(fc.record({ ch, dir: fc.constantFrom<'send' | 'recv'>('send', 'recv') }), {
  minLength: 1,
  maxLength: 4,
  selector: (c) => `${c.ch}${c.dir}`,
})
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('select' as const), cases: casesArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('nowait' as const), cases: casesArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('send' as const, 'receive' as const), ch }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('cancel' as const), t: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('closeSend' as const, 'closeReceive' as const), ch }) },
)
const programArb = fc.record({
  caps: fc.array(fc.constantFrom(0, 0, 1, 2, Infinity), { minLength: CH, maxLength: CH }),
  commands: fc.array(commandArb, { maxLength: 40 }),
})

function errorName(e: unknown): string {
  for (const C of [WouldBlock, EndOfChannel, ClosedResourceError, BrokenResourceError, Cancelled]) if (e instanceof C) return C.name
  return `unexpected ${String(e)}`
}

const show = (x: unknown): string => JSON.stringify(x)

/** Runs one program on real memory channels and on the model; throws at the first difference. */
async function runProgram(caps: readonly number[], commands: readonly Command[]): Promise<void> {
  const model = new SelectModel(caps)
  const chans = caps.map((c) => openMemoryChannel<number>(c)) as [MemorySendChannel<number>, MemoryReceiveChannel<number>][]
  const real = new Map<number, Outcome>()
  const scopes: CancelScope[] = []
  let nextValue = 1
  const toCases = (cs: readonly { ch: number; dir: 'send' | 'recv' }[]): Case[] =>
    cs.map((c) => (c.dir === 'send' ? { ...c, value: nextValue++ } : { ...c }))
  const realCases = (cs: readonly Case[]): SelectCase<Outcome>[] =>
    cs.map((c, k) =>
      c.dir === 'send'
        ? onSend(chans[c.ch]![0], c.value!, (): Outcome => ({ state: 'ok', caseIndex: k }))
        : onReceive(
            chans[c.ch]![1],
            (v): Outcome => ({ state: 'ok', caseIndex: k, value: v }),
            (): Outcome => ({ state: 'ok', caseIndex: k, end: true }),
          ),
    )

  await openNursery(async (nursery) => {
    const compare = (where: string): void => {
      for (const [t, o] of model.outcomes) {
        const r = real.get(t) ?? { state: 'waiting' }
        if (show(r) !== show(o)) throw new Error(`${where}: task ${t} real ${show(r)} model ${show(o)}`)
      }
      for (let c = 0; c < CH; c++) {
        const st = chans[c]![0].statistics()
        const got = {
          currentBufferUsed: st.currentBufferUsed,
          tasksWaitingSend: st.tasksWaitingSend,
          tasksWaitingReceive: st.tasksWaitingReceive,
        }
        if (show(got) !== show(model.statistics(c)))
          throw new Error(`${where}: channel ${c} real ${show(got)} model ${show(model.statistics(c))}`)
      }
      for (const [s] of chans) s._checkInvariants()
    }
    for (let i = 0; i < commands.length; i++) {
      const cmd = commands[i]!
      const where = `command ${i} ${show(cmd)}`
      if (cmd.op === 'select' || cmd.op === 'send' || cmd.op === 'receive') {
        const plain = cmd.op !== 'select'
        const cases = toCases(cmd.op === 'select' ? cmd.cases : [{ ch: cmd.ch, dir: cmd.op === 'send' ? 'send' : 'recv' }])
        const t = scopes.length
        const scope = new CancelScope()
        scopes.push(scope)
        real.set(t, { state: 'waiting' })
        nursery.startSoon(async () => {
          try {
            await scope.run(async () => {
              if (!plain) {
                real.set(t, await select(...realCases(cases)))
                return
              }
              const [c] = cases
              if (c!.dir === 'send') await chans[c!.ch]![0].send(c!.value!)
              const v = c!.dir === 'recv' ? await chans[c!.ch]![1].receive() : undefined
              real.set(t, v === undefined ? { state: 'ok', caseIndex: 0 } : { state: 'ok', caseIndex: 0, value: v })
            })
            if (scope.cancelledCaught) real.set(t, { state: 'error', error: 'Cancelled' })
          } catch (e) {
            real.set(t, { state: 'error', error: errorName(e) })
          }
        })
        await waitAllTasksBlocked()
        const r = real.get(t)!
        const err = model.start(t, cases, plain, r)
        if (err) throw new Error(`${where}: ${err}`)
      } else if (cmd.op === 'nowait') {
        const cases = toCases(cmd.cases)
        let r: Outcome | 'WouldBlock'
        try {
          r = selectNowait(...realCases(cases))
        } catch (e) {
          r = e instanceof WouldBlock ? 'WouldBlock' : { state: 'error', error: errorName(e) }
        }
        const m = model.nowait(cases, r)
        if (m.error) throw new Error(`${where}: ${m.error}`)
        if (show(m.outcome) !== show(r)) throw new Error(`${where}: real ${show(r)} model ${show(m.outcome)}`)
        await waitAllTasksBlocked()
      } else if (cmd.op === 'cancel') {
        if (scopes.length > 0) {
          const t = cmd.t % scopes.length
          scopes[t]!.cancel()
          model.cancel(t)
        }
        await waitAllTasksBlocked()
      } else {
        if (cmd.op === 'closeSend') {
          chans[cmd.ch]![0].close()
          model.closeSend(cmd.ch)
        } else {
          chans[cmd.ch]![1].close()
          model.closeReceive(cmd.ch)
        }
        await waitAllTasksBlocked()
      }
      compare(where)
    }
    for (let t = 0; t < scopes.length; t++) {
      scopes[t]!.cancel()
      model.cancel(t)
    }
    await waitAllTasksBlocked()
    compare('end')
  })
}

describe('select against the reference model (memory channels)', () => {
  it('random programs of selects, nowait selects, plain operations, cancels and closes agree with the model', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async ({ caps, commands }) => {
        await runProgram(caps, commands)
      }),
      { numRuns: Number(process.env.GOTRIO_PROPERTY_RUNS ?? 150) },
    )
  })
})
