/**
 * What a channel or a pool is called on the server, and the checks on the
 * names users give. One place, so that every process derives the same names.
 *
 * | thing | server name |
 * |---|---|
 * | channel values (work-queue stream) | stream `GOTRIO_CH_<name>`, subject `gotrio.ch.<name>` |
 * | channel receivers (shared durable pull consumer) | consumer `receivers` |
 * | channel open counts (KV, max_age = lease) | bucket `gotrio_lease_<name>`, keys `s.<id>` / `r.<id>` |
 * | channel config and sticky "side closed" flags (KV, no expiry) | bucket `gotrio_channels`, keys `<name>.config`, `<name>.closed.s`, `<name>.closed.r` |
 * | channel notices (core NATS, may be dropped) | subject `gotrio.chn.<name>` |
 * | worker-task queue of a pool (work-queue stream) | stream `GOTRIO_POOL_<pool>`, subject `gotrio.pool.<pool>`, consumer `hosts` |
 * | one task's events (core NATS request/reply) | subjects `gotrio.task.<id>.<event>` |
 */
const NAME = /^[A-Za-z0-9_-]{1,64}$/

export function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(
      `${what}: a name must be 1 to 64 letters, digits, '-' or '_' (it names a JetStream stream), got ${typeof name === 'string' ? JSON.stringify(name) : typeof name}`,
    )
  }
  return name
}

export const channelStream = (name: string): string => `GOTRIO_CH_${name}`
export const channelSubject = (name: string): string => `gotrio.ch.${name}`
export const noticeSubject = (name: string): string => `gotrio.chn.${name}`
export const leaseBucket = (name: string): string => `gotrio_lease_${name}`
export const leaseStream = (name: string): string => `KV_${leaseBucket(name)}`
export const leaseSubject = (name: string, key: string): string => `$KV.${leaseBucket(name)}.${key}`
export const STATE_BUCKET = 'gotrio_channels'
export const RECEIVERS = 'receivers'

export const poolStream = (pool: string): string => `GOTRIO_POOL_${pool}`
export const poolSubject = (pool: string): string => `gotrio.pool.${pool}`
export const taskSubject = (id: string, event: string): string => `gotrio.task.${id}.${event}`
export const HOSTS = 'hosts'

let counter = 0
const processId = Math.random().toString(36).slice(2, 10) + Date.now().toString(36)
/** A name no other handle or task of any process has (process-random prefix + counter). */
export function uniqueId(): string {
  return `${processId}-${(counter++).toString(36)}`
}
