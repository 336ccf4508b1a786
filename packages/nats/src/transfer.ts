/**
 * Reviving a NATS channel handle that moved to this thread (the `kTransfer`
 * protocol of @gotrio/runtime: a worker-task argument, or a value of a shared
 * channel). The handle keeps its lease key; this thread talks to the server
 * over a connection of its own, made on first use per server URL and kept
 * for the thread's life. Only the server address travels: a thread cannot
 * rebuild credentials or TLS options, so a server that needs them must be
 * reached by handles made in that thread with its own connection.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { reviveHandle, type HandleRecord } from './channel.ts'

const connections = new Map<string, Promise<NatsConnection>>()

function connectionTo(server: string): Promise<NatsConnection> {
  let c = connections.get(server)
  if (!c) {
    c = connect({ servers: server, maxReconnectAttempts: -1 })
    connections.set(server, c)
  }
  return c
}

export async function reviveTransfer(data: HandleRecord): Promise<unknown> {
  return reviveHandle(await connectionTo(data.server), data)
}
