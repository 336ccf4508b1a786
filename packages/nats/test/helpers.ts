/** Test helpers: one real nats-server per test file, child processes, unique channel names. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll } from 'vitest'
import { connect, type NatsConnection } from '../src/index.js'
import { startLocalNatsServer, type LocalNatsServer } from '../src/server.js'

export interface ServerFixture {
  server: LocalNatsServer
  /** Connections made by `conn()`, closed after the file. */
  readonly conns: NatsConnection[]
  conn(): Promise<NatsConnection>
}

/** Starts a nats-server before the file's tests and stops it after. */
export function useNatsServer(): ServerFixture {
  const f: ServerFixture = {
    server: undefined as unknown as LocalNatsServer,
    conns: [],
    async conn() {
      const nc = await connect({ servers: f.server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 })
      f.conns.push(nc)
      return nc
    },
  }
  beforeAll(async () => {
    f.server = await startLocalNatsServer()
  })
  afterAll(async () => {
    await Promise.allSettled(f.conns.map((c) => c.close()))
    await f.server.dispose()
  })
  return f
}

let n = 0
export function uniqueName(prefix = 'ch'): string {
  return `${prefix}-${process.pid}-${n++}`
}

export interface Child {
  readonly proc: ChildProcess
  /** Resolves with the first stdout line that starts with `prefix` (the rest of the line). */
  line(prefix: string): Promise<string>
  exited: Promise<number | null>
  kill(signal?: NodeJS.Signals): void
}

const children = new Set<ChildProcess>()

/** Runs test/fixtures/<name>.ts in a new Node process (tsx) with `args`. */
export function child(name: string, ...args: string[]): Child {
  const file = new URL(`./fixtures/${name}.ts`, import.meta.url).pathname
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(proc)
  const lines: string[] = []
  const waiters: { prefix: string; resolve: (s: string) => void }[] = []
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(l)
    for (const w of [...waiters]) {
      if (l.startsWith(w.prefix)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(l.slice(w.prefix.length).trim())
      }
    }
  })
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code) => {
      children.delete(proc)
      if (code !== 0 && code !== null) process.stderr.write(`fixture ${name} exited with ${code}:\n${err}\n`)
      r(code)
    }),
  )
  return {
    proc,
    exited,
    kill: (s = 'SIGKILL') => void proc.kill(s),
    line(prefix) {
      const seen = lines.find((l) => l.startsWith(prefix))
      if (seen !== undefined) return Promise.resolve(seen.slice(prefix.length).trim())
      return new Promise((resolve, reject) => {
        waiters.push({ prefix, resolve })
        void exited.then((code) => reject(new Error(`fixture ${name} exited (${code}) before printing ${prefix}:\n${err}`)))
      })
    },
  }
}

process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})
