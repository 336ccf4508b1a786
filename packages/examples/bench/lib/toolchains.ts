/**
 * The three toolchains the bench runs programs with, how to find them, and what to tell the
 * user when one is missing.
 *
 *   node    this Node (process.execPath), for gotrio and the Node baselines: the TypeScript
 *           programs run with Node's own type stripping (Node 24), with no loader; a Node that
 *           cannot run them as they are gets `--import tsx` (NODE_TS_FLAGS)
 *   python  /usr/bin/python3 with Debian's python3-trio (override: GOTRIO_BENCH_PYTHON)
 *   go      `go` on PATH, Debian's golang-go (override: GOTRIO_BENCH_GO); the programs are built
 *           once per run into .bench-out/go with GOCACHE/GOPATH under .bench-out
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import type { Toolchain } from './specs.ts'

export const INSTALL_HINT = 'sudo apt-get install -y python3-trio golang-go   (or: pnpm bench:install)'

export interface ToolchainStatus {
  available: boolean
  /** Version string when available, the reason and the fix when not. */
  detail: string
  /** The command to start programs with (python interpreter / go tool). */
  command: string
}

export interface Machine {
  cores: number
  cpu: string
  node: string
  python: string | null
  trio: string | null
  go: string | null
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv, cwd?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env, cwd, timeout: 120_000 }).trim()
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string; code?: string }
  if (e.code === 'ENOENT') return 'not found'
  return (
    String(e.stderr || e.message || err)
      .trim()
      .split('\n')
      .pop() ?? 'failed'
  )
}

export function detectPython(): ToolchainStatus & { python: string | null; trio: string | null } {
  const command = process.env.GOTRIO_BENCH_PYTHON ?? '/usr/bin/python3'
  try {
    const [trio, python] = run(command, ['-c', 'import sys, trio; print(trio.__version__, sys.version.split()[0])']).split(' ')
    return { available: true, detail: `Python ${python}, Trio ${trio}`, command, python: python ?? null, trio: trio ?? null }
  } catch (err) {
    return {
      available: false,
      command,
      python: null,
      trio: null,
      detail: `${command} with the trio package is not available (${firstLine(err)}); install it with: sudo apt-get install -y python3-trio`,
    }
  }
}

export function detectGo(): ToolchainStatus & { version: string | null } {
  const command = process.env.GOTRIO_BENCH_GO ?? 'go'
  try {
    const version = run(command, ['version']).replace(/^go version /, '')
    return { available: true, detail: `Go ${version}`, command, version }
  } catch (err) {
    return {
      available: false,
      command,
      version: null,
      detail: `the Go toolchain (${command}) is not available (${firstLine(err)}); install it with: sudo apt-get install -y golang-go`,
    }
  }
}

/**
 * Builds each Go program (`<name>.go` + `common.go`, no go.mod) into outDir/go/<name>.
 * Offline: only the standard library is used. Throws with the compiler's message on failure.
 */
export function buildGo(goCommand: string, benchDir: string, outDir: string, programs: string[]): Map<string, string> {
  const binDir = join(outDir, 'go')
  mkdirSync(binDir, { recursive: true })
  const env = {
    ...process.env,
    GOCACHE: process.env.GOCACHE ?? join(outDir, 'gocache'),
    GOPATH: process.env.GOPATH ?? join(outDir, 'gopath'),
    GO111MODULE: 'on',
    GOFLAGS: '',
    GOTOOLCHAIN: 'local',
  }
  const bins = new Map<string, string>()
  for (const name of new Set(programs)) {
    const out = join(binDir, name)
    try {
      run(goCommand, ['build', '-o', out, `${name}.go`, 'common.go'], env, join(benchDir, 'go'))
    } catch (err) {
      const e = err as { stderr?: string }
      throw new Error(`go build ${name}.go failed:\n${e.stderr ?? String(err)}`)
    }
    bins.set(name, out)
  }
  return bins
}

/**
 * True when this Node runs the TypeScript programs itself: it strips types and parses
 * `await using` (Node 24; Node 22 strips types but cannot parse it), so no loader is needed.
 */
export const NODE_STRIPS_TYPES = ((): boolean => {
  if (!(process.features as { typescript?: string | false }).typescript) return false
  try {
    new Function('async () => { await using x = null }')
    return true
  } catch {
    return false
  }
})()

/** The flags a TypeScript program is started with: none when Node strips types, else tsx. */
export const NODE_TS_FLAGS: readonly string[] = NODE_STRIPS_TYPES ? [] : ['--import', 'tsx']

export function toolchainOf(t: Toolchain): string {
  return t === 'node' ? (NODE_STRIPS_TYPES ? 'Node' : 'Node + tsx') : t === 'python' ? 'Python/Trio' : 'Go'
}

export function describeMachine(python: ReturnType<typeof detectPython>, go: ReturnType<typeof detectGo>): Machine {
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    python: python.python,
    trio: python.trio,
    go: go.version,
  }
}

/**
 * The gotrio revision being measured: the commit, plus a note when packages/runtime or
 * packages/channels have uncommitted changes (then the numbers belong to no commit).
 */
export function gotrioRevision(repoDir: string): string {
  try {
    const head = run('git', ['rev-parse', '--short', 'HEAD'], undefined, repoDir)
    const dirty = run('git', ['status', '--porcelain', '--', 'packages/runtime', 'packages/channels'], undefined, repoDir)
    return dirty ? `${head} + uncommitted changes in runtime/channels` : head
  } catch {
    return 'unknown (not a git checkout)'
  }
}
