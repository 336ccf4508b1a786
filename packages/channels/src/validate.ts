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
