/** Refuses option keys that are not in `known` (a misspelt option must not be silently ignored). */
export function checkOptionKeys(what: string, options: object, known: readonly string[]): void {
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new TypeError(`${what}: unknown option '${k}'; the options are ${known.map((x) => `'${x}'`).join(', ')}`)
  }
}
