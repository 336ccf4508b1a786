/**
 * An HTTP server in gotrio's structured style: `pnpm example http-server [port]`,
 * then `curl 'http://127.0.0.1:8080/primes?n=1000000'`.
 *
 *  - One nursery owns every request: nothing a request starts outlives the
 *    server, and shutting down cancels whatever is still running.
 *  - Each request runs under a cancel scope tied to its connection
 *    (`new CancelScope({ signal })`): a client that hangs up cancels its
 *    request's work, down to the CPU loop on a worker thread.
 *  - Each request has a deadline (`failAfter`): too slow is a 503.
 *  - The errors of one request are handled in that request (a 400, a 503, a
 *    500); they never take the server down.
 *  - SIGTERM (or Ctrl-C) stops accepting connections and cancels the rest.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { CancelScope, Cancelled, TooSlowError, failAfter, openNursery, run, runInWorker, sleepForever, workerTask } from '@gotrio/runtime'
import type * as Tasks from './workers/http-tasks.ts'

const countPrimes = workerTask<typeof Tasks.countPrimes>(new URL('./workers/http-tasks.ts', import.meta.url), 'countPrimes')

export interface ServeOptions {
  host?: string
  /** 0 picks a free port (see `onListening`). */
  port?: number
  /** Each request's deadline, in milliseconds (a `?ms=` query parameter may lower it). */
  deadlineMs?: number
  /** Stops the server (the example's main ties it to SIGTERM and SIGINT). */
  stop: AbortSignal
  onListening?: (port: number) => void
  /** A request is being handled (its scope is entered). */
  onRequest?: (path: string) => void
  /** What happened to each request, for logs and tests. */
  onOutcome?: (path: string, outcome: 'ok' | 'bad request' | 'too slow' | 'client hung up' | 'shut down' | 'failed') => void
}

/** Serves until `stop` aborts; resolves once every request has finished. */
export async function serve(options: ServeOptions): Promise<void> {
  const { host = '127.0.0.1', port = 8080, deadlineMs = 2_000, stop, onListening, onRequest, onOutcome = () => {} } = options
  await openNursery(async (nursery) => {
    // The nursery owns every request: the callback hands each one to it.
    const server = createServer((req, res) => nursery.startSoon(handle, req, res))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    onListening?.((server.address() as AddressInfo).port)

    async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const path = req.url ?? '/'
      // The connection's own signal: aborted when the client goes away before the answer.
      const hungUp = new AbortController()
      res.once('close', () => {
        if (!res.writableFinished) hungUp.abort(new Error('the client closed the connection'))
      })
      const scope = new CancelScope({ signal: hungUp.signal })
      try {
        await scope.run(async () => {
          onRequest?.(path)
          const url = new URL(path, 'http://localhost')
          const n = Number(url.searchParams.get('n') ?? '100000')
          const ms = Math.min(deadlineMs, Number(url.searchParams.get('ms') ?? deadlineMs))
          if (url.pathname !== '/primes' || !Number.isSafeInteger(n) || n < 0 || !(ms >= 0)) {
            reply(res, 400, { error: 'use /primes?n=<non-negative integer>[&ms=<deadline>]' })
            onOutcome(path, 'bad request')
            return
          }
          const primes = await failAfter(ms, () => runInWorker(countPrimes, 0, n))
          reply(res, 200, { n, primes })
          onOutcome(path, 'ok')
        })
        if (scope.cancelledCaught) onOutcome(path, 'client hung up') // nobody to answer
      } catch (e) {
        if (e instanceof TooSlowError) {
          reply(res, 503, { error: `not done within the deadline` })
          onOutcome(path, 'too slow')
        } else if (e instanceof Cancelled) {
          reply(res, 503, { error: 'the server is shutting down' })
          onOutcome(path, 'shut down')
          throw e // the nursery's own cancellation: it catches it
        } else {
          reply(res, 500, { error: 'internal error' })
          onOutcome(path, 'failed')
          console.error(`request ${path} failed:`, e) // this request's error, handled here
        }
      }
    }

    // Until asked to stop; then no new connections, and what runs is cancelled.
    await new CancelScope({ signal: stop }).run(() => sleepForever())
    server.close() // no new connections; idle ones close, busy ones once answered
    nursery.cancelScope.cancel() // requests still running answer 503 and end
  })
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stop = new AbortController()
  process.once('SIGTERM', () => stop.abort())
  process.once('SIGINT', () => stop.abort())
  const port = Number(process.argv[2] ?? 8080)
  await run(() =>
    serve({
      port,
      stop: stop.signal,
      onListening: (p) => console.log(`listening on http://127.0.0.1:${p}/primes?n=1000000 (SIGTERM or Ctrl-C stops it)`),
      onOutcome: (path, outcome) => console.log(`${path}: ${outcome}`),
    }),
  )
  console.log('stopped')
}
