/**
 * The http-server example (issue 12, point 8): started on 127.0.0.1 with a
 * random port, a few requests (one whose client hangs up, one past its
 * deadline, one malformed), then shut down. Every wait is on an event.
 */
import { describe, expect, it } from 'vitest'
import { run } from '@gotrio/runtime'
import { serve, type ServeOptions } from '../src/http-server.js'

type Outcome = Parameters<NonNullable<ServeOptions['onOutcome']>>[1]

describe('http-server example', () => {
  it('answers, turns a deadline into 503, cancels a request whose client hung up, and shuts down', async () => {
    const stop = new AbortController()
    const outcomes = new Map<string, Outcome>()
    const waiters = new Map<string, (o: Outcome) => void>()
    const outcomeOf = (path: string): Promise<Outcome> =>
      outcomes.has(path) ? Promise.resolve(outcomes.get(path)!) : new Promise((resolve) => waiters.set(path, resolve))
    const started = new Map<string, () => void>()
    let listening!: (port: number) => void
    const portP = new Promise<number>((resolve) => (listening = resolve))

    const results = await run(
      async () => {
        const server = serve({
          port: 0,
          deadlineMs: 600_000, // a cold pool under load is slow: only ?ms= deadlines are meant to pass
          stop: stop.signal,
          onRequest: (path) => started.get(path)?.(),
          onListening: listening,
          onOutcome: (path, o) => {
            outcomes.set(path, o)
            waiters.get(path)?.(o)
          },
        })
        const base = `http://127.0.0.1:${await portP}`
        const ok = await fetch(`${base}/primes?n=10000`)
        const okBody = (await ok.json()) as { primes: number }
        const slow = await fetch(`${base}/primes?n=1000000000000&ms=50`) // never finishes by itself
        const bad = await fetch(`${base}/primes?n=lots`)

        // A client that hangs up while its request computes (forever, without the hang-up).
        const client = new AbortController()
        const path = '/primes?n=1000000000001&ms=600000'
        const serving = new Promise<void>((resolve) => started.set(path, resolve))
        const hang = fetch(`${base}${path}`, { signal: client.signal }).catch((e: unknown) => e)
        await serving // the server is handling it: now the client hangs up
        const hangOutcome = outcomeOf('/primes?n=1000000000001&ms=600000')
        client.abort()
        await hang
        const hungUp = await hangOutcome

        // Shutdown while a request computes: it is cancelled and answered 503.
        const lastPath = '/primes?n=1000000000002&ms=600000'
        const lastServing = new Promise<void>((resolve) => started.set(lastPath, resolve))
        const last = fetch(`${base}${lastPath}`)
        await lastServing
        stop.abort()
        const lastStatus = (await last).status
        await server // every request has finished
        return { ok: ok.status, okBody, slow: slow.status, bad: bad.status, hungUp, lastStatus, lastOutcome: outcomes.get(lastPath) }
      },
      { workers: 2, cancelGraceMs: 600_000 }, // a CPU loop that ignored cancellation would hang here, not pass
    )
    expect(results.ok).toBe(200)
    expect(results.okBody.primes).toBe(1229)
    expect(results.slow).toBe(503)
    expect(results.bad).toBe(400)
    expect(results.hungUp).toBe('client hung up')
    expect(results.lastStatus).toBe(503)
    expect(results.lastOutcome).toBe('shut down')
  })
})
