/**
 * Deadlock detection and dumpTasks. `run()` detects a deadlock on Node's
 * `beforeExit`, which never fires inside a vitest worker, so each case runs
 * `fixtures/deadlock.ts` in a child process and checks what it printed.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, test } from 'vitest'
import { DeadlockError, dumpTasks, openNursery, sleep, sleepForever } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'

const exec = promisify(execFile)
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const fixture = fileURLToPath(new URL('./fixtures/deadlock.ts', import.meta.url))

interface Report {
  outcome: 'resolved' | 'rejected'
  value?: unknown
  name?: string
  isDeadlockError?: boolean
  message?: string
  waiting?: { task: string; waitsOn: string }[]
  events: string[]
}

async function runFixture(scenario: string): Promise<Report> {
  // The child must exit by itself: a hang here is a failure (the timeout kills it).
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', fixture, scenario], { cwd: repoRoot, timeout: 30_000 })
  const lines = stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]!) as Report
}

describe('DeadlockError as a class', () => {
  test('constructed like any Error (API.md: class DeadlockError extends Error {})', () => {
    const bare = new DeadlockError()
    expect(bare).toBeInstanceOf(Error)
    expect(bare.name).toBe('DeadlockError')
    expect(bare.waiting).toEqual([])
    const cause = new Error('why')
    const e = new DeadlockError('stuck', { cause })
    expect(e.message).toBe('stuck')
    expect(e.cause).toBe(cause)
    const listed = new DeadlockError([{ task: 'main', waitsOn: 'receive()' }])
    expect(listed.message).toMatch(/all tasks are asleep - deadlock! 1 task\(s\)[\s\S]*main: waiting on receive\(\)/)
    expect(listed.waiting).toHaveLength(1)
  })
})

describe('DeadlockError (child process)', () => {
  test('a body awaiting a start() whose task never calls started() and sleeps forever', async () => {
    const r = await runFixture('start')
    expect(r.outcome).toBe('rejected')
    expect(r.isDeadlockError).toBe(true)
    expect(r.name).toBe('DeadlockError')
    expect(r.waiting).toEqual([{ task: 'neverStarts', waitsOn: 'sleepForever()' }])
    expect(r.message).toMatch(/deadlock/)
    expect(r.message).toContain('neverStarts: waiting on sleepForever()')
  })

  test('two tasks that only cancellation could wake are a deadlock, listed by name', async () => {
    const r = await runFixture('sleepers')
    expect(r.isDeadlockError).toBe(true)
    expect(r.waiting).toEqual(
      expect.arrayContaining([
        { task: 'sleeperA', waitsOn: 'sleepForever()' },
        { task: 'sleeperB', waitsOn: 'sleepForever()' },
      ]),
    )
    expect(r.waiting).toHaveLength(2)
  })

  test('the waiting tasks are cancelled and unwind before run() rejects', async () => {
    const r = await runFixture('sleepers')
    expect(r.events).toEqual(['sleeperB unwound', 'run rejected'])
    const s = await runFixture('start')
    expect(s.events).toEqual(['neverStarts unwound', 'run rejected'])
  })

  test('run() waits for cleanup that takes time (shielded) before rejecting: no task outlives run()', async () => {
    const r = await runFixture('slowUnwind')
    expect(r.isDeadlockError).toBe(true)
    expect(r.events).toEqual(['cleaner unwound', 'run rejected'])
  })

  test('main awaiting a promise that never settles is reported too, with no gotrio waiter', async () => {
    const r = await runFixture('promise')
    expect(r.isDeadlockError).toBe(true)
    expect(r.waiting).toEqual([])
    expect(r.message).toMatch(/main awaits a promise that never settles/)
  })

  test('a program whose tasks a timer wakes is not a deadlock and exits by itself', async () => {
    const r = await runFixture('ok')
    expect(r).toEqual({ outcome: 'resolved', value: 'done', events: ['run resolved'] })
  })

  test('dumpTasks() inside run() lists each waiting task and its operation', async () => {
    const r = await runFixture('dump')
    expect(r.outcome).toBe('resolved')
    expect(r.value).toMatch(/2 waiting operation\(s\)/)
    expect(r.value).toContain('napper: sleep(60000)')
    expect(r.value).toContain('dreamer: sleepForever()')
  })

  test('GOTRIO_DUMP_SIGNAL=SIGUSR2: the signal prints the waiting tasks to stderr', async () => {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', fixture, 'signal'], {
      cwd: repoRoot,
      timeout: 30_000,
      env: { ...process.env, GOTRIO_DUMP_SIGNAL: 'SIGUSR2' },
    })
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ outcome: 'resolved', value: 'signalled' })
    expect(stderr).toMatch(/2 waiting operation\(s\) in this thread/)
    expect(stderr).toContain('napper: sleep(60000)')
    expect(stderr).toContain('dreamer: sleepForever()')
  })

  test('GOTRIO_DUMP_SIGNAL naming no usable signal makes run() throw a TypeError that says what to use', async () => {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', fixture, 'ok'], {
      cwd: repoRoot,
      timeout: 30_000,
      env: { ...process.env, GOTRIO_DUMP_SIGNAL: 'SIGUSR1' },
    })
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as Report
    expect(r).toMatchObject({ outcome: 'rejected', name: 'TypeError' })
    expect(r.message).toMatch(/GOTRIO_DUMP_SIGNAL must name a signal .*e\.g\. SIGUSR2.*got "SIGUSR1"/)
  })
})

describe('dumpTasks (in process)', () => {
  test('says when nothing waits', () => {
    expect(dumpTasks()).toMatch(/no task is waiting/)
  })

  test('names tasks after their function; anonymous ones say so (Trio test_spawn_name)', async () => {
    let dump = ''
    await openNursery(async (n) => {
      n.startSoon(async function namedSleeper() {
        await sleepForever()
      })
      n.startSoon(() => sleep(1_000_000))
      await waitAllTasksBlocked()
      dump = dumpTasks()
      n.cancelScope.cancel()
    })
    expect(dump).toContain('namedSleeper: sleepForever()')
    expect(dump).toContain('anonymous task: sleep(1000000)')
    expect(dumpTasks()).toMatch(/no task is waiting/)
  })
})
