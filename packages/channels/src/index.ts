/**
 * @gotrio/channels — Trio's memory channels, and shared channels whose
 * endpoints live in any thread. See API.md for the contract.
 */
export { WouldBlock, EndOfChannel, ClosedResourceError, BrokenResourceError } from './errors.js'
export type { SendChannel, ReceiveChannel, ChannelStatistics } from './types.js'
export { openMemoryChannel } from './memory-channel.js'
export { MemorySendChannel } from './memory-send-channel.js'
export { MemoryReceiveChannel } from './memory-receive-channel.js'
export {
  openSharedChannel,
  SharedSendChannel,
  SharedReceiveChannel,
  registerSharedCodec,
  type SharedChannelOptions,
  type Codec,
} from './shared/index.js'
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
} from './shared/sync-primitives/index.js'
