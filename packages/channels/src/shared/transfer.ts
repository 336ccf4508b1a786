/**
 * The module the runtime imports in the receiving thread to revive a shared
 * endpoint passed as a worker-task argument (the kTransfer protocol of
 * runtime/resources.ts): `reviveTransfer(data)` turns the descriptor into a
 * live handle owned by the current task.
 */
import { reviveEndpoint } from './endpoints.ts'

export function reviveTransfer(data: unknown): unknown {
  if (!Array.isArray(data) || data.length !== 4) {
    throw new TypeError('reviveTransfer: expected a shared-channel endpoint descriptor [block, generation, side, codec]')
  }
  return reviveEndpoint(data)
}
