/** Shared channels: Trio's channel semantics for endpoints in any thread (see README "Shared channels"). */
export { openSharedChannel, closeHandlesOfDeadThread, type SharedChannelOptions } from './open.js'
export { SharedSendChannel, SharedReceiveChannel } from './endpoints.js'
export { registerSharedCodec, type Codec } from './codec.js'
export { parkedSharedOperations } from './waiting.js'
