/**
 * What the NATS benchmark programs share: a server (NATS_URL, or a local
 * nats-server started for the run), and the peer process each program runs as
 * the other side (the same program file, started with `--peer ...`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { startLocalNatsServer, type LocalNatsServer } from '@gotrio/nats/testing'

export async function natsServer(): Promise<{ url: string; server: LocalNatsServer | undefined }> {
  if (process.env.NATS_URL) return { url: process.env.NATS_URL, server: undefined }
  const server = await startLocalNatsServer()
  return { url: server.url, server }
}

/** Starts `program --peer ...args` and resolves once it prints its first line (it is ready). */
export function startPeer(program: string, ...args: string[]): Promise<ChildProcess> {
  const file = program.startsWith('file:') ? fileURLToPath(program) : program
  const child = spawn(process.execPath, [...process.execArgv, file, '--peer', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve(child))
    child.once('exit', (code) => reject(new Error(`${file} --peer exited with ${code} before it was ready`)))
  })
}

export async function stopPeer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const gone = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await gone
}

/** Warm-up values a sender sends first (the receiver does not time them). */
export const warmup = (n: number): number => Math.max(50, Math.floor(n / 10))
