/**
 * The adaptive spin budget (src/shared/spin.ts): how a budget moves with the
 * outcome of each spin and park. Pure logic, one thread; what spinning buys
 * across threads is measured by the bench (ab.ts), not asserted here.
 */
import { describe, expect, it } from 'vitest'
import { CAN_SPIN, COOLDOWN_MAX, COOLDOWN_MIN, GROW_BELOW_MS, SPIN_MAX, SPIN_MIN, SpinBudget } from '../src/shared/spin.js'

const SHORT = GROW_BELOW_MS / 2
const LONG = GROW_BELOW_MS * 2

/** Grows `b` to SPIN_MAX with short parks (each one after a spin that lost). */
function growByShortParks(b: SpinBudget): number {
  let parks = 0
  while (b.n < SPIN_MAX) {
    b.parked(SHORT)
    parks++
  }
  return parks
}

/** A full-length spin that lost, then a short park: the partner was not running. Returns the parks spent at SPIN_MIN after it. */
function trapAndCount(b: SpinBudget): number {
  expect(b.n).toBe(SPIN_MAX)
  b.parked(SHORT)
  expect(b.n).toBe(SPIN_MIN)
  let atMin = 0
  for (;;) {
    b.parked(SHORT)
    if (b.n !== SPIN_MIN) return atMin
    atMin++
  }
}

describe.skipIf(!CAN_SPIN)('SpinBudget', () => {
  it('a won spin doubles the budget up to SPIN_MAX; a long park halves it down to SPIN_MIN', () => {
    const b = new SpinBudget()
    const start = b.n
    b.won()
    expect(b.n).toBe(start * 2)
    for (let k = 0; k < 20; k++) b.won()
    expect(b.n).toBe(SPIN_MAX)
    b.parked(LONG)
    expect(b.n).toBe(SPIN_MAX / 2)
    for (let k = 0; k < 20; k++) b.parked(LONG)
    expect(b.n).toBe(SPIN_MIN)
  })

  it('after a full-length spin lost and the park was short, the budget sits at SPIN_MIN for a cooldown that starts at COOLDOWN_MIN parks and doubles while it repeats', () => {
    const b = new SpinBudget()
    growByShortParks(b)
    const cooldowns: number[] = []
    for (let k = 0; k < 7; k++) {
      cooldowns.push(trapAndCount(b))
      growByShortParks(b)
    }
    const want: number[] = []
    for (let c = COOLDOWN_MIN; want.length < 7; c = Math.min(COOLDOWN_MAX, c * 2)) want.push(c)
    expect(cooldowns).toEqual(want)
    expect(cooldowns.at(-1)).toBe(COOLDOWN_MAX)
  })

  it('a spin of at least SPIN_MAX / 2 that wins resets the cooldown to COOLDOWN_MIN; a short spin that wins does not', () => {
    const b = new SpinBudget()
    growByShortParks(b)
    expect(trapAndCount(b)).toBe(COOLDOWN_MIN)
    growByShortParks(b)
    expect(trapAndCount(b)).toBe(COOLDOWN_MIN * 2)
    // A short spin wins (the budget is SPIN_MIN * 2 after the cooldown ended): no reset.
    b.won()
    growByShortParks(b)
    expect(trapAndCount(b)).toBe(COOLDOWN_MIN * 4)
    // A long spin wins: reset.
    growByShortParks(b)
    b.won()
    expect(b.n).toBe(SPIN_MAX)
    expect(trapAndCount(b)).toBe(COOLDOWN_MIN)
  })

  it('a channel where spinning does not pay never spins, whatever happens', () => {
    const b = new SpinBudget(false)
    b.won()
    b.parked(SHORT)
    b.parked(LONG)
    expect(b.n).toBe(0)
  })

  it("a new channel's budget starts where this thread's last budget of the same side moved, not at SPIN_START; the sides are apart", () => {
    const send = new SpinBudget(true, 0)
    const recvStart = new SpinBudget(true, 1).n
    while (send.n < SPIN_MAX) send.won()
    expect(new SpinBudget(true, 0).n).toBe(SPIN_MAX) // warm: a new channel's sends spin as long at once
    for (let k = 0; k < 20; k++) send.parked(LONG)
    expect(send.n).toBe(SPIN_MIN)
    expect(new SpinBudget(true, 0).n).toBe(SPIN_MIN) // an idle partner lately: new channels start short too
    expect(new SpinBudget(true, 1).n).toBe(recvStart) // the receive side did not move
    expect(new SpinBudget(false, 0).n).toBe(0) // never on a channel where spinning does not pay
    // Leave this thread's send side where a fresh thread starts (later tests expect SPIN_START).
    while (send.n < 256) send.won()
    expect(new SpinBudget(true, 0).n).toBe(256)
  })
})
