/** Errors of @gotrio/nats (the channel errors are @gotrio/channels' own). */

/**
 * The NATS connection a handle or a remote task uses was closed (by `nc.close()`,
 * or by the client after its reconnect attempts ran out): the operation cannot
 * complete. Whatever the server had acknowledged is kept there.
 */
export class ConnectionLostError extends Error {
  override name = 'ConnectionLostError'
}

/** A host running a remote task stopped heart-beating (it died or lost its connection); the task was not re-run. */
export class HostLostError extends Error {
  override name = 'HostLostError'
}
