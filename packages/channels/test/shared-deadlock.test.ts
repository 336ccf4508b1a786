/**
 * Deadlock detection with shared channels. `run()` detects a deadlock on
 * Node's `beforeExit`, which never fires inside a vitest worker, so each case
 * runs `fixtures/shared-deadlock.ts` in a child process and checks what it
 * printed. A shared channel holds the event loop open only while another
 * thread may complete its waiting operations (waiting.ts, keep-alive), so a
 * program whose waits only its own thread could end is reported, not hung.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, test } from 'vitest'

const exec = promisify(execFile)
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const fixture = fileURLToPath(new URL('./fixtures/shared-deadlock.ts', import.meta.url))

interface Report {
  outcome: 'resolved' | 'rejected'
  value?: unknown
  name?: string
  message?: string
  waiting?: { task: string; waitsOn: string }[]
  events: string[]
}

async function runFixture(scenario: string): Promise<Report> {
  // The child must exit by itself: a hang is a failure (the timeout kills it).
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', fixture, scenario], { cwd: repoRoot, timeout: 60_000 })
  const lines = stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]!) as Report
}

describe('DeadlockError with shared channels (child process)', () => {
  test('main waits to receive; its own sender is the only one: DeadlockError naming the receive', async () => {
    const r = await runFixture('receiveLocal')
    expect(r.name).toBe('DeadlockError')
    expect(r.waiting).toEqual([{ task: 'main', waitsOn: 'SharedReceiveChannel.receive' }])
  })

  test('main waits to send into a full buffer; its own receiver is the only one: DeadlockError naming the send', async () => {
    const r = await runFixture('sendLocal')
    expect(r.name).toBe('DeadlockError')
    expect(r.waiting).toEqual([{ task: 'main', waitsOn: 'SharedSendChannel.send' }])
  })

  test('worker tasks send through clones and finish, main forgot to close its sender: every value, then DeadlockError', async () => {
    const r = await runFixture('forgotClose')
    expect(r.name).toBe('DeadlockError')
    expect(r.waiting).toEqual([{ task: 'main', waitsOn: 'SharedReceiveChannel.receive' }])
    expect(r.events).toEqual(['received 1', '... 100 events']) // both producers' 50 values arrived first
  })

  test('the same program with main closing its sender ends normally', async () => {
    const r = await runFixture('closed')
    expect(r).toMatchObject({ outcome: 'resolved', value: 100 })
  })

  test('tasks of one thread waking each other through shared channels of sizes 0, 1 and 4 are not a deadlock', async () => {
    const r = await runFixture('localWakes')
    expect(r).toMatchObject({ outcome: 'resolved', value: 3 * 190 })
  })
})
