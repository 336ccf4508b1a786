/**
 * The model-based suite for one channel kind. `model.property.test.ts` calls
 * it for memory channels; call it for any other kind with the same semantics
 * in one thread:
 *
 * ```ts
 * describeChannelModel('shared', openSharedChannel)
 * ```
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { modelParameters, modelProperty, runProgram, type Command, type ModelPropertyOptions, type OpenChannel } from './run-model.js'

/** Hand-picked programs (each a Trio rule), run before the random ones so a regression names its rule. */
export const namedPrograms: readonly { name: string; capacity: number; program: Command[] }[] = [
  {
    name: 'rendezvous: waiting senders are served longest-waiting first',
    capacity: 0,
    program: [
      { op: 'send', h: 0 },
      { op: 'send', h: 0 },
      { op: 'send', h: 0 },
      { op: 'receive', h: 0, kind: 'receive' },
      { op: 'receiveNowait', h: 0 },
    ],
  },
  {
    name: 'waiting receivers are served longest-waiting first; a value never passes through the buffer',
    capacity: 2,
    program: [
      { op: 'receive', h: 0, kind: 'receive' },
      { op: 'receive', h: 0, kind: 'next' },
      { op: 'sendNowait', h: 0 },
      { op: 'send', h: 0 },
      { op: 'statistics', side: 'send', h: 0 },
    ],
  },
  {
    name: 'a cancelled send in the middle of the queue delivered nothing',
    capacity: 1,
    program: [
      { op: 'sendNowait', h: 0 },
      { op: 'send', h: 0 },
      { op: 'send', h: 0 },
      { op: 'send', h: 0 },
      { op: 'cancel', t: 1 },
      { op: 'receiveNowait', h: 0 },
      { op: 'receiveNowait', h: 0 },
      { op: 'receiveNowait', h: 0 },
      { op: 'receiveNowait', h: 0 },
    ],
  },
  {
    name: "after the longest-waiting of two senders is cancelled, receiveNowait takes the next sender's value at once",
    capacity: 0,
    program: [
      { op: 'send', h: 0 },
      { op: 'send', h: 0 },
      { op: 'cancel', t: 0 },
      { op: 'receiveNowait', h: 0 },
    ],
  },
  {
    name: 'a cancelled receive took nothing',
    capacity: 0,
    program: [
      { op: 'receive', h: 0, kind: 'receive' },
      { op: 'receive', h: 0, kind: 'receive' },
      { op: 'cancel', t: 0 },
      { op: 'sendNowait', h: 0 },
      { op: 'sendNowait', h: 0 },
    ],
  },
  {
    name: 'closing a clone fails only the tasks waiting on that clone; the last close ends the receivers',
    capacity: 0,
    program: [
      { op: 'cloneSend', h: 0 },
      { op: 'send', h: 0 },
      { op: 'send', h: 1 },
      { op: 'closeSend', h: 1 },
      { op: 'receiveNowait', h: 0 },
      { op: 'receive', h: 0, kind: 'receive' },
      { op: 'receive', h: 0, kind: 'next' },
      { op: 'closeSend', h: 0 },
      { op: 'receive', h: 0, kind: 'receive' },
    ],
  },
  {
    name: 'closing the last receiver drops the buffer and breaks waiting and later senders',
    capacity: 1,
    program: [
      { op: 'sendNowait', h: 0 },
      { op: 'send', h: 0 },
      { op: 'cloneReceive', h: 0 },
      { op: 'closeReceive', h: 0 },
      { op: 'statistics', side: 'receive', h: 0 },
      { op: 'closeReceive', h: 1 },
      { op: 'sendNowait', h: 0 },
      { op: 'send', h: 0 },
      { op: 'receiveNowait', h: 1 },
      { op: 'cloneReceive', h: 1 },
    ],
  },
  {
    name: 'an unbounded channel never blocks a sender',
    capacity: Infinity,
    program: [
      { op: 'send', h: 0 },
      { op: 'send', h: 0 },
      { op: 'sendNowait', h: 0 },
      { op: 'closeSend', h: 0 },
      { op: 'receive', h: 0, kind: 'next' },
      { op: 'receiveNowait', h: 0 },
      { op: 'receive', h: 0, kind: 'receive' },
      { op: 'receive', h: 0, kind: 'receive' },
      { op: 'receive', h: 0, kind: 'next' },
    ],
  },
]

/** Known bugs of a channel kind: those tests run as `it.fails` until the bug is fixed (then remove the entry). */
export interface KnownBugs {
  /** Named program → the bug that makes it fail. */
  programs?: Readonly<Record<string, string>>
  /** Capacities whose random programs fail because of a bug: run with a fixed seed, as `it.fails`. */
  randomCapacities?: { readonly capacities: readonly number[]; readonly bug: string; readonly seed: number }
}

export function describeChannelModel(
  kind: string,
  open: OpenChannel,
  options: ModelPropertyOptions & { knownBugs?: KnownBugs } = {},
): void {
  describe(`${kind} channel against the Trio channel model`, () => {
    const capacities = options.capacities ?? [0, 1, 2, 3, Infinity]
    const bugs = options.knownBugs ?? {}
    for (const p of namedPrograms) {
      if (!capacities.includes(p.capacity)) continue
      const bug = bugs.programs?.[p.name]
      // A known bug: the test documents it and turns red once it is fixed (then drop the entry).
      ;(bug === undefined ? it : it.fails)(
        `${p.name} (capacity ${p.capacity})${bug === undefined ? '' : ` [known bug: ${bug}]`}`,
        async () => {
          await runProgram(open, p.capacity, p.program, options)
        },
      )
    }

    const failing = bugs.randomCapacities
    const passing = capacities.filter((c) => !failing?.capacities.includes(c))
    it(`random programs of send/receive/nowait/clone/close/cancel/statistics agree with the model at every step (capacities ${passing.join(', ')})`, async () => {
      await fc.assert(modelProperty(open, { ...options, capacities: passing }), modelParameters(options))
    })
    if (failing) {
      it.fails(`random programs, capacities ${failing.capacities.join(', ')} [known bug: ${failing.bug}]`, async () => {
        await fc.assert(modelProperty(open, { ...options, capacities: failing.capacities }), {
          ...modelParameters(options),
          seed: failing.seed,
        })
      })
    }
  })
}
