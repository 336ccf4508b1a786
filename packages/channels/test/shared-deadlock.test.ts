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
  waiting?: { task: string; waitsOn: string; thread?: number }[]
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

describe('DeadlockError across threads (child process)', () => {
  test("the new user's program: main keeps the sender, a worker waits on the receiver: DeadlockError listing both threads", async () => {
    const r = await runFixture('newUser')
    expect(r.name).toBe('DeadlockError')
    expect(r.waiting).toHaveLength(2)
    expect(r.waiting).toContainEqual({ task: 'main', waitsOn: expect.stringMatching(/^worker task waitsOnR /) })
    const worker = r.waiting!.find((w) => w.task === 'worker:waitsOnR')!
    expect(worker).toMatchObject({ waitsOn: 'SharedReceiveChannel.receive' })
    expect(worker.thread).toBeGreaterThan(0)
    expect(r.message).toMatch(/worker:waitsOnR \(worker thread \d+\): waiting on SharedReceiveChannel\.receive/)
  })

  test('the same with a blocking receive (the worker thread blocked in receiveSync): DeadlockError naming receiveSync', async () => {
    const r = await runFixture('newUserSync')
    expect(r.name).toBe('DeadlockError')
    expect(r.waiting).toContainEqual({ task: 'main', waitsOn: expect.stringMatching(/^worker task waitsOnRSync /) })
    expect(r.waiting!.find((w) => w.task === 'worker:waitsOnRSync')).toMatchObject({
      waitsOn: 'SharedReceiveChannel.receiveSync',
      thread: expect.any(Number),
    })
  })

  test("a worker blocked in a shared event's waitSync that nobody will set: DeadlockError naming waitSync", async () => {
    const r = await runFixture('eventSync')
    expect(r.name).toBe('DeadlockError')
    expect(r.waiting!.find((w) => w.task === 'worker:waitsOnEventSync')).toMatchObject({ waitsOn: 'SharedEvent.waitSync' })
  })

  test('a worker blocked in selectSync on channels nobody else will use: DeadlockError naming selectSync', async () => {
    const r = await runFixture('selectSync')
    expect(r.name).toBe('DeadlockError')
    expect(r.waiting!.find((w) => w.task === 'worker:selectsSync')).toMatchObject({ waitsOn: 'selectSync' })
  })

  test('a worker in selectSync whose send waits for byte budget (the buffer has free slots) sleeps: DeadlockError naming selectSync', async () => {
    // Before: its retry read a stale futex word (room in the buffer) and
    // retried at once, for ever, so the deadlock probe was never answered.
    const r = await runFixture('selectSyncBudget')
    expect(r.name).toBe('DeadlockError')
    expect(r.waiting!.find((w) => w.task === 'worker:selectSendsSync')).toMatchObject({ waitsOn: 'selectSync' })
  })

  test('not a deadlock: a blocking receive under a deadline of its own (the worker moves on)', async () => {
    expect(await runFixture('syncDeadline')).toMatchObject({ outcome: 'resolved', value: 'moved on' })
  })

  test('not a deadlock: two workers streaming through a small buffer with blocking calls only, for several detector ticks', async () => {
    expect(await runFixture('syncStream')).toMatchObject({ outcome: 'resolved', value: { all: true, sumOk: true } })
  })

  test('two worker tasks waiting on each other (on two threads) while main waits in its nursery: every waiting task listed', async () => {
    const r = await runFixture('workersCrossed')
    expect(r.name).toBe('DeadlockError')
    const inWorkers = r.waiting!.filter((w) => w.thread !== undefined)
    expect(inWorkers).toHaveLength(2)
    expect(inWorkers.every((w) => w.task === 'worker:relay' && w.waitsOn === 'SharedReceiveChannel.receive')).toBe(true)
    expect(r.waiting!.filter((w) => w.thread === undefined)).toHaveLength(2) // main's side of the two tasks
  })

  // No false positive: each program below waits longer than the detector needs to declare, on
  // something that will come, while every other task is parked.
  test('not a deadlock: main waits on a timer while the worker waits for main', async () => {
    expect(await runFixture('mainTimer')).toMatchObject({ outcome: 'resolved', value: 'sent' })
  })

  test('not a deadlock: the only sender is a worker task sleeping on a timer', async () => {
    expect(await runFixture('sleepingWorker')).toMatchObject({ outcome: 'resolved', value: 1 })
  })

  test('not a deadlock: the only sender is a worker thread busy computing', async () => {
    expect(await runFixture('busyWorker')).toMatchObject({ outcome: 'resolved', value: 1 })
  })

  test('not a deadlock: the only sender waits on a file read that another process completes late', async () => {
    expect(await runFixture('fileRead')).toMatchObject({ outcome: 'resolved', value: 5 })
  })

  test('not a deadlock: main waits on a socket while the worker waits for main', async () => {
    expect(await runFixture('socket')).toMatchObject({ outcome: 'resolved', value: 'ping' })
  })

  test('dumpTasks() lists the waiting tasks of worker threads too, with their thread', async () => {
    const r = await runFixture('dumpThreads')
    expect(r.outcome).toBe('resolved')
    expect(r.value).toMatch(/^gotrio: 1 waiting operation\(s\) in this thread:\n {2}worker:readyThenWait: worker task readyThenWait /)
    expect(r.value).toMatch(
      /gotrio: 1 waiting operation\(s\) in worker thread \d+:\n {2}worker:readyThenWait: SharedReceiveChannel\.receive/,
    )
  })

  test('GOTRIO_DUMP_SIGNAL: the signal prints the waiting tasks of worker threads too', async () => {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', fixture, 'signalThreads'], {
      cwd: repoRoot,
      timeout: 60_000,
      env: { ...process.env, GOTRIO_DUMP_SIGNAL: 'SIGUSR2' },
    })
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ outcome: 'resolved', value: 'signalled' })
    expect(stderr).toMatch(/waiting operation\(s\) in worker thread \d+:\n {2}worker:readyThenWait: SharedReceiveChannel\.receive/)
  })
})
