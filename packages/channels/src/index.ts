/**
 * @gotrio/channels — Trio's memory channels, and shared channels whose
 * endpoints live in any thread. See API.md for the contract.
 */
export { WouldBlock, EndOfChannel, ClosedResourceError, BrokenResourceError } from './errors.ts'
export type { SendChannel, ReceiveChannel, ChannelStatistics } from './types.ts'
export { openMemoryChannel } from './memory-channel.ts'
export { MemorySendChannel } from './memory-send-channel.ts'
export { MemoryReceiveChannel } from './memory-receive-channel.ts'
export {
  openSharedChannel,
  SharedSendChannel,
  SharedReceiveChannel,
  registerSharedCodec,
  type SharedChannelOptions,
  type Codec,
} from './shared/index.ts'
export {
  openSharedEvent,
  openSharedLock,
  openSharedSemaphore,
  openSharedCapacityLimiter,
  SharedEvent,
  SharedLock,
  SharedSemaphore,
  SharedCapacityLimiter,
  type SharedLockStatistics,
} from './shared/sync-primitives/index.ts'
export { select, selectNowait, selectSync, type SelectResult } from './select/select.ts'
export { onReceive, onSend, SelectCase } from './select/case.ts'
