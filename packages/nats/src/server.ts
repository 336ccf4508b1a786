/**
 * A local `nats-server -js` for tests, the demo and the benchmarks
 * (`@gotrio/nats/testing`). Production servers are run by the user (README).
 *
 * The server listens on 127.0.0.1 on a port the OS picks (`-p -1`), writes
 * that port to a file in a temp dir (`--ports_file_dir`), and keeps JetStream
 * storage in another temp dir, so restarting it on the same port and storage
 * brings the streams back (tests of server restarts).
 *
 * When `nats-server` is not on the PATH: if this process runs as root and
 * apt-get exists, it is installed (Debian's package, as CI does); otherwise
 * the error says which command installs it. Set GOTRIO_NATS_NO_INSTALL=1 to
 * forbid the install.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

const INSTALL_HINT = 'install it with `apt-get install -y nats-server` (Debian/Ubuntu) or from https://nats.io/download'

function onPath(cmd: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'])
  for (const d of dirs) {
    const p = join(d, cmd)
    if (d !== '' && existsSync(p)) return p
  }
  return undefined
}

let binary: string | undefined

/** The path of `nats-server`, installing it with apt-get when running as root (see the file comment). */
export function natsServerBinary(): string {
  if (binary) return binary
  const env = process.env.NATS_SERVER_BIN
  if (env) return (binary = env)
  let p = onPath('nats-server')
  if (!p) {
    const root = typeof process.getuid === 'function' && process.getuid() === 0
    if (root && onPath('apt-get') && process.env.GOTRIO_NATS_NO_INSTALL !== '1') {
      process.stderr.write('gotrio: nats-server is missing; installing it with apt-get (GOTRIO_NATS_NO_INSTALL=1 forbids this)\n')
      const env2 = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env: env2 })
      spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'inherit', env: env2 })
      p = onPath('nats-server')
    }
  }
  if (!p)
    throw new Error(
      `gotrio: the NATS tests and demos need a nats-server binary (>= 2.9.4) on the PATH, and none was found: ${INSTALL_HINT}, or set NATS_SERVER_BIN`,
    )
  return (binary = p)
}

export interface LocalNatsServer {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string
  readonly port: number
  /** Stops the server (SIGTERM, or SIGKILL with `{ kill: true }`) and waits for it to exit. Storage is kept. */
  stop(options?: { kill?: boolean }): Promise<void>
  /** Starts it again on the same port and storage. */
  restart(): Promise<void>
  /** Stops it and removes its storage. */
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** Starts `nats-server -js` on 127.0.0.1 with a free port and a temp storage dir; resolves once it listens. */
export async function startLocalNatsServer(): Promise<LocalNatsServer> {
  const bin = natsServerBinary()
  const dir = mkdtempSync(join(tmpdir(), 'gotrio-nats-'))
  const store = join(dir, 'store')
  const portsDir = join(dir, 'ports')
  let child: ChildProcess | undefined
  let port = -1
  let output = ''

  const launch = async (): Promise<void> => {
    rmSync(portsDir, { recursive: true, force: true })
    mkdirSync(portsDir)
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store, '--ports_file_dir', portsDir]
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = c
    output = ''
    c.stdout!.on('data', (d: Buffer) => (output += d.toString()))
    c.stderr!.on('data', (d: Buffer) => (output += d.toString()))
    const exited = new Promise<never>((_, reject) =>
      c.once('exit', (code) => reject(new Error(`gotrio: nats-server exited (code ${code}) before it was ready:\n${output}`))),
    )
    // The ports file appears once the server listens; wait for it (and for JetStream's ready line).
    const ready = (async () => {
      for (let i = 0; i < 1000; i++) {
        if (existsSync(portsDir)) {
          const f = readdirSync(portsDir).find((n) => n.endsWith('.ports'))
          if (f && output.includes('Server is ready')) {
            try {
              const ports = JSON.parse(readFileSync(join(portsDir, f), 'utf8')) as { nats: string[] }
              return Number(new URL(ports.nats[0]!).port)
            } catch {
              /* being written: read it again */
            }
          }
        }
        await new Promise((r) => setTimeout(r, 10))
      }
      throw new Error(`gotrio: nats-server did not get ready in 10 s:\n${output}`)
    })()
    port = await Promise.race([ready, exited])
    c.removeAllListeners('exit')
  }
  await launch()

  const stop = async (options: { kill?: boolean } = {}): Promise<void> => {
    const c = child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const gone = new Promise<void>((r) => c.once('exit', () => r()))
    c.kill(options.kill ? 'SIGKILL' : 'SIGTERM')
    await gone
  }
  const server: LocalNatsServer = {
    get url() {
      return `nats://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    stop,
    restart: launch,
    async dispose() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
    [Symbol.asyncDispose]() {
      return this.dispose()
    },
  }
  return server
}
