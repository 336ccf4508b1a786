/** Argument checks for channel constructors, shared by memory and shared channels. */

/** `maxBufferSize`: a non-negative integer or Infinity (TypeError if not an integer, RangeError if negative). */
export function checkMaxBufferSize(fn: string, n: unknown): number {
  if (typeof n !== 'number' || (!Number.isInteger(n) && n !== Infinity)) {
    throw new TypeError(
      `${fn}: maxBufferSize must be a non-negative integer or Infinity, got ${typeof n === 'string' ? `'${n}'` : String(n)}`,
    )
  }
  if (n < 0) throw new RangeError(`${fn}: maxBufferSize must be a non-negative integer or Infinity, got ${n}`)
  return n
}

/**
 * `max` of a batch receive: a positive integer or Infinity (TypeError if not
 * an integer — NaN, 1.5, '3' —, RangeError if below 1).
 */
export function checkBatchMax(fn: string, n: unknown): number {
  if (typeof n !== 'number' || (!Number.isInteger(n) && n !== Infinity)) {
    throw new TypeError(
      `${fn}: max must be a positive integer or Infinity (how many values to take at most), got ${typeof n === 'string' ? `'${n}'` : String(n)}`,
    )
  }
  if (n < 1) throw new RangeError(`${fn}: max must be a positive integer or Infinity (how many values to take at most), got ${n}`)
  return n
}
