/**
 * The checksums the runner expects, computed here independently of every program (closed forms
 * and a sieve, not the programs' own loops), so a program that drops, duplicates or reorders
 * values, or miscounts primes, fails instead of producing a number.
 */

/** Channel benchmarks: N values 0..N-1 (each producer's share in its order): "count:sum:bad". */
export function channelChecksum(items: number): string {
  return `${items}:${(items * (items - 1)) / 2}:0`
}

/** spawn: task i adds i: "N:sum(0..N-1)". */
export function spawnChecksum(tasks: number): string {
  return `${tasks}:${(tasks * (tasks - 1)) / 2}`
}

/** worker_task_roundtrip: the trivial task returns i + 1: "N:sum(1..N)". */
export function roundtripChecksum(tasks: number): string {
  return `${tasks}:${(tasks * (tasks + 1)) / 2}`
}

/** cpu_parallel: the number of primes below `limit`, by the sieve of Eratosthenes. */
export function primesBelow(limit: number): string {
  if (limit < 3) return '0'
  const composite = new Uint8Array(limit)
  let count = 0
  for (let n = 2; n < limit; n++) {
    if (composite[n]) continue
    count++
    for (let m = n * n; m < limit; m += n) composite[m] = 1
  }
  return String(count)
}
