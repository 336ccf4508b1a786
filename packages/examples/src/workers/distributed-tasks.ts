/**
 * The remote task of the distributed-primes example: counts the primes of one
 * chunk on whichever host takes it, and says which host that was.
 */
import { hostname } from 'node:os'
import { countPrimes } from './tasks.ts'

export function countChunk(lo: number, hi: number): { primes: number; host: string } {
  return { primes: countPrimes(lo, hi), host: process.env.GOTRIO_HOST_NAME ?? `${hostname()}:${process.pid}` }
}
