/**
 * Test helpers shared by the runtime suite. Tests synchronise on events
 * (promises, `waitAllTasksBlocked`), never on elapsed time.
 */
import { expect } from 'vitest'
import { NurseryError } from '@gotrio/runtime'

export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

/** A promise with its resolve/reject, to hand an event from one task to another. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Awaits `p` and returns what it rejected with; fails the test if it resolved. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    const v = await p
    throw new Error(`expected a rejection, but the promise resolved with ${String(v)}`)
  } catch (e) {
    return e
  }
}

/** Calls `fn` and returns what it threw synchronously; fails the test if it did not throw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected the call to throw synchronously, but it returned')
}

/**
 * Asserts that `e` is a NurseryError (an AggregateError) whose errors are
 * exactly `expected` (by identity for Error objects, in any order), like
 * Trio's `RaisesGroup`.
 */
export function expectGroup(e: unknown, expected: readonly unknown[]): NurseryError {
  expect(e).toBeInstanceOf(NurseryError)
  expect(e).toBeInstanceOf(AggregateError)
  const group = e as NurseryError
  expect(group.errors).toHaveLength(expected.length)
  for (const x of expected) expect(group.errors).toContain(x)
  return group
}

/** Asserts that `e` is a NurseryError whose errors are instances of the given classes (any order). */
export function expectGroupOf(e: unknown, classes: readonly (abstract new (...args: never[]) => unknown)[]): NurseryError {
  expect(e).toBeInstanceOf(NurseryError)
  const group = e as NurseryError
  const names = group.errors.map((x) => (x as Error).constructor.name).sort()
  expect(names).toEqual(classes.map((c) => c.name).sort())
  return group
}
