/** Shared channels: Trio's channel semantics for endpoints in any thread (see README "Shared channels"). */
export { openSharedChannel, closeHandlesOfDeadThread, type SharedChannelOptions } from './open.ts'
export { SharedSendChannel } from './send-channel.ts'
export { SharedReceiveChannel } from './receive-channel.ts'
export { registerSharedCodec, type Codec } from './codec.ts'
export { parkedSharedOperations } from './waiting.ts'
