/** Shared channels: Trio's channel semantics for endpoints in any thread (see README "Shared channels"). */
export { openSharedChannel, closeHandlesOfDeadThread, type SharedChannelOptions } from './open.js'
export { SharedSendChannel } from './send-channel.js'
export { SharedReceiveChannel } from './receive-channel.js'
export { registerSharedCodec, type Codec } from './codec.js'
export { parkedSharedOperations } from './waiting.js'
