/**
 * Worker tasks across machines, with real host processes: results, errors,
 * start/started, NATS endpoints moving to the host, cancellation, a task
 * waiting for a host, modules a host does not list, local endpoints refused,
 * and a SIGKILLed host failing its running task at the caller.
 */
import { openMemoryChannel, openSharedChannel } from '@gotrio/channels'
import { moveOnAfter, openNursery, run, runInWorker, type CancelScope } from '@gotrio/runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HostLostError, openNatsChannel, remoteTask, serveWorkerTasks, type ServeOptions } from '../src/index.js'
import type * as Tasks from './fixtures/tasks.js'
import { child, uniqueName, useNatsServer, type Child } from './helpers.js'

const srv = useNatsServer()
// Channel leases and the shared hosts' heartbeat lease are long enough for a loaded machine; the
// host that is killed uses SHORT, so the test waits little for HostLostError.
const LEASE = 5000
const SHORT = 2000
const TASKS = new URL('./fixtures/tasks.ts', import.meta.url)
const pool = uniqueName('pool')
let hosts: Child[] = []

beforeAll(async () => {
  hosts = [child('host', srv.server.url, pool, String(LEASE)), child('host', srv.server.url, pool, String(LEASE))]
  await Promise.all(hosts.map((h) => h.line('serving')))
})
afterAll(async () => {
  for (const h of hosts) h.kill('SIGTERM')
  await Promise.all(hosts.map((h) => h.exited))
})

describe('remote tasks', () => {
  it('runInWorker and startSoon run on host processes and return results', async () => {
    const nc = await srv.conn()
    const add = remoteTask<typeof Tasks.add>(nc, pool, TASKS, 'add')
    await run(async () => {
      expect(await runInWorker(add, 2, 3)).toBe(5)
      const whoami = remoteTask<typeof Tasks.whoami>(nc, pool, TASKS, 'whoami')
      const pids = new Set<number>()
      await openNursery(async (n) => {
        for (let i = 0; i < 8; i++) n.startSoon(async () => void pids.add(await runInWorker(whoami)))
      })
      const hostPids = new Set(hosts.map((h) => h.proc.pid))
      for (const p of pids) expect(hostPids.has(p)).toBe(true)
    })
  })

  it('errors arrive with name, message and stack', async () => {
    const nc = await srv.conn()
    const fail = remoteTask<typeof Tasks.fail>(nc, pool, TASKS, 'fail')
    const e = (await runInWorker(fail, 'bad range').catch((x: unknown) => x)) as Error
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('RangeError')
    expect(e.message).toBe('bad range')
    expect(e.stack).toMatch(/fail/)
  })

  it('nursery.start gets the started() value; the task then finishes in the nursery', async () => {
    const nc = await srv.conn()
    const ready = remoteTask<typeof Tasks.ready>(nc, pool, TASKS, 'ready')
    await run(async () => {
      await openNursery(async (n) => {
        expect(await n.start(ready, 'there')).toBe('hello there')
      })
    })
  })

  it("a NATS endpoint passed as an argument moves to the host; the caller's handle is given up", async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<number>(nc, uniqueName(), { maxBufferSize: 4, leaseMs: LEASE })
    const produce = remoteTask<typeof Tasks.produce>(nc, pool, TASKS, 'produce')
    const got: number[] = []
    await run(async () => {
      await openNursery(async (n) => {
        n.startSoon(produce, tx, 20)
        for await (const v of rx) got.push(v)
      })
    })
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    await expect(tx.send(1)).rejects.toThrow(/moved/)
    await rx.aclose()
  })

  it("cancelling the caller's scope cancels the remote task", async () => {
    const nc = await srv.conn()
    const [tx, rx] = await openNatsChannel<string>(nc, uniqueName(), { maxBufferSize: 4, leaseMs: LEASE })
    const wait = remoteTask<typeof Tasks.waitForCancel>(nc, pool, TASKS, 'waitForCancel')
    await run(async () => {
      await openNursery(async (n) => {
        n.startSoon(wait, tx)
        expect(await rx.receive()).toBe('running')
        n.cancelScope.cancel()
      })
    })
    expect(await rx.receive()).toBe('cancelled')
    await rx.aclose()
  })

  it('a task waits, cancellably, while no host serves its pool', async () => {
    const nc = await srv.conn()
    const add = remoteTask<typeof Tasks.add>(nc, uniqueName('nohost'), TASKS, 'add')
    let scope: CancelScope | undefined
    await moveOnAfter(300, async (s) => {
      scope = s
      await runInWorker(add, 1, 1)
    })
    expect(scope!.cancelledCaught).toBe(true)
  })

  it('a module the hosts do not list fails at the caller, naming the module and the option; nothing runs', async () => {
    const nc = await srv.conn()
    const sneaky = remoteTask(nc, pool, new URL('./fixtures/other-tasks.ts', import.meta.url), 'sneaky')
    await expect(runInWorker(sneaky)).rejects.toThrow(/other-tasks\.ts is not one this host runs.*modules option/)
  })

  it('local channel endpoints are a TypeError naming openNatsChannel; bad arguments to remoteTask too', async () => {
    const nc = await srv.conn()
    const add = remoteTask(nc, pool, TASKS, 'add')
    const [ms, mr] = openMemoryChannel<number>(1)
    const [ss, sr] = openSharedChannel<number>(1)
    // @ts-expect-error a memory endpoint is a type error too; the runtime check is what this test is about
    await expect(runInWorker(add, ms, 1)).rejects.toThrow(/openNatsChannel/)
    await expect(runInWorker(add, [{ x: ss }], 1)).rejects.toThrow(/openNatsChannel/)
    ms.send // still usable: nothing moved
    ss.sendNowait(1)
    expect(sr.receiveNowait()).toBe(1)
    for (const h of [ms, mr, ss, sr]) h.close()
    expect(() => remoteTask(nc, 'a.b', TASKS)).toThrow(/letters, digits/)
    expect(() => remoteTask(nc, pool, './relative.ts')).toThrow(/relative path/)
    expect(() => remoteTask({} as typeof nc, pool, TASKS)).toThrow(/NatsConnection/)
  })

  it('serveWorkerTasks refuses bad options with errors naming the option', async () => {
    const nc = await srv.conn()
    await expect(serveWorkerTasks(nc, pool, {} as ServeOptions)).rejects.toThrow(/options.modules must list/)
    await expect(serveWorkerTasks(nc, pool, { modules: [TASKS], workers: 0 })).rejects.toBeInstanceOf(RangeError)
    await expect(serveWorkerTasks(nc, pool, { modules: [TASKS], leaseMs: 5 })).rejects.toThrow(/leaseMs/)
    await expect(serveWorkerTasks(nc, pool, { modules: [TASKS], bogus: 1 } as ServeOptions)).rejects.toThrow(/unknown option "bogus"/)
    await expect(serveWorkerTasks(nc, 'no spaces', { modules: [TASKS] })).rejects.toThrow(/letters, digits/)
    await expect(serveWorkerTasks(nc, pool, { modules: ['./rel.ts'] })).rejects.toThrow(/relative path/)
  })
})

describe('a host that dies', () => {
  it('fails its running task at the caller with HostLostError, without re-running it', async () => {
    const nc = await srv.conn()
    const lonely = uniqueName('pool')
    const h = child('host', srv.server.url, lonely, String(SHORT))
    await h.line('serving')
    const [tx, rx] = await openNatsChannel<string>(nc, uniqueName(), { maxBufferSize: 4, leaseMs: LEASE })
    const forever = remoteTask<typeof Tasks.forever>(nc, lonely, TASKS, 'forever')
    const outcome = run(async () => runInWorker(forever, tx)).catch((e: unknown) => e)
    expect(await rx.receive()).toBe('running')
    h.kill('SIGKILL')
    const e = await outcome
    expect(e).toBeInstanceOf(HostLostError)
    expect(String((e as Error).message)).toMatch(/no heartbeat.*not re-run/)
    await rx.aclose()
  })
})
