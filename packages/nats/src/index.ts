/**
 * @gotrio/nats — gotrio channels and worker tasks across machines, on NATS
 * JetStream. See the package README for what is guaranteed and what is not.
 */
export { connect, type NatsConnection, type ConnectionOptions } from '@nats-io/transport-node'
export {
  openNatsChannel,
  attachNatsChannel,
  deleteNatsChannel,
  NatsSendChannel,
  NatsReceiveChannel,
  type NatsChannelOptions,
} from './channel.ts'
export { registerNatsCodec, type NatsCodec } from './codec.ts'
export { ConnectionLostError, HostLostError } from './errors.ts'
export { remoteTask, serveWorkerTasks, type WorkerHost, type ServeOptions } from './remote.ts'
