/**
 * @gotrio/nats — gotrio channels and worker tasks across machines, on NATS
 * JetStream. See the package README for what is guaranteed and what is not.
 */
export { connect, type NatsConnection, type ConnectionOptions } from '@nats-io/transport-node'
export { openNatsChannel, attachNatsChannel, deleteNatsChannel, NatsSendChannel, NatsReceiveChannel, type NatsChannelOptions } from './channel.js'
export { registerNatsCodec, type NatsCodec } from './codec.js'
export { ConnectionLostError, HostLostError } from './errors.js'
export { remoteTask, serveWorkerTasks, type WorkerHost, type ServeOptions } from './remote.js'
