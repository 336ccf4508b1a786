/**
 * The gotrio API as the benchmark programs use it, loaded so that a piece that is not written
 * yet makes the program report "not available: ..." (see lib/program.ts) instead of crashing
 * or, worse, being replaced by something else.
 *
 * The runtime is imported with its real types. The channel constructors are looked up on the
 * module namespace and typed from API.md, because while @gotrio/channels is being written its
 * index may not export them yet; the presence check below is what the runner relies on.
 */
import * as channelsModule from '@gotrio/channels'
import type { ReceiveChannel, SendChannel } from '@gotrio/channels'
import * as runtimeModule from '@gotrio/runtime'
import { unavailable } from '../lib/program.ts'

export type { ReceiveChannel, SendChannel }

/** API.md: shared endpoints add blocking twins for worker threads. */
export interface SharedSendChannel<T> extends SendChannel<T> {
  sendSync(value: T): void
  clone(): SharedSendChannel<T>
}
export interface SharedReceiveChannel<T> extends ReceiveChannel<T> {
  receiveSync(): T
  /** API.md "Batches". */
  receiveMany(max: number): Promise<T[]>
  receiveManySync(max: number): T[]
  clone(): SharedReceiveChannel<T>
}

export interface ChannelsApi {
  openMemoryChannel<T>(maxBufferSize: number): [SendChannel<T>, ReceiveChannel<T>]
  openSharedChannel<T>(
    maxBufferSize: number,
    options?: { codec?: 'structured' | 'int32' | 'float64' },
  ): [SharedSendChannel<T>, SharedReceiveChannel<T>]
}

export type RuntimeApi = typeof runtimeModule

type Needs = { runtime?: (keyof RuntimeApi)[]; channels?: (keyof ChannelsApi)[] }

/**
 * Returns the API if every named export exists; otherwise prints the "unavailable" line for
 * (benchmark, impl) and returns undefined, and the program should simply end.
 */
export function loadGotrio(benchmark: string, impl: string, needs: Needs): { rt: RuntimeApi; ch: ChannelsApi } | undefined {
  const rt = runtimeModule as Partial<RuntimeApi>
  const ch = channelsModule as unknown as Partial<ChannelsApi>
  const missing = [
    ...(needs.runtime ?? []).filter((name) => typeof rt[name] !== 'function').map((n) => `@gotrio/runtime.${n}`),
    ...(needs.channels ?? []).filter((name) => typeof ch[name] !== 'function').map((n) => `@gotrio/channels.${n}`),
  ]
  if (missing.length > 0) {
    unavailable(benchmark, impl, `${missing.join(', ')} not exported yet`)
    return undefined
  }
  return { rt: rt as RuntimeApi, ch: ch as ChannelsApi }
}
