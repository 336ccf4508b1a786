/** Argument checks shared by the public functions: each error names the rule and the fix. */

/** A duration or time in milliseconds: a number, not NaN, not negative (Infinity allowed). */
export function checkMs(what: string, ms: unknown): number {
  if (typeof ms !== 'number') {
    throw new TypeError(`${what} must be a number of milliseconds, got ${typeof ms} ${String(ms)}`)
  }
  if (Number.isNaN(ms) || ms < 0) {
    throw new RangeError(`${what} must be a non-negative number of milliseconds (or Infinity), got ${ms}`)
  }
  return ms
}

/** An absolute deadline in `currentTime()` milliseconds: any number but NaN. */
export function checkDeadline(what: string, t: unknown): number {
  if (typeof t !== 'number') throw new TypeError(`${what} must be a number (currentTime() milliseconds), got ${typeof t}`)
  if (Number.isNaN(t)) throw new RangeError(`${what} must not be NaN; use Infinity for "no deadline"`)
  return t
}

/** Refuses option keys that are not in `known` (a misspelt option must not be silently ignored). */
export function checkOptionKeys(what: string, options: object, known: readonly string[]): void {
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) {
      throw new TypeError(`${what}: unknown option '${k}'; the options are ${known.map((x) => `'${x}'`).join(', ')}`)
    }
  }
}

export function checkFunction(what: string, fn: unknown): void {
  if (typeof fn !== 'function') {
    throw new TypeError(`${what} must be a function (an async function returning a promise), got ${fn === null ? 'null' : typeof fn}`)
  }
}
