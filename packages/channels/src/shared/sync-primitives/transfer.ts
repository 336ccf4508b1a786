/**
 * The module the runtime imports in the receiving thread to revive a shared
 * sync handle passed as a worker-task argument (the kTransfer protocol).
 */
import { reviveSync } from './open.ts'

export function reviveTransfer(data: unknown): unknown {
  if (!Array.isArray(data))
    throw new TypeError("reviveTransfer: expected a shared sync-primitive descriptor ['gotrio.sync', block, generation]")
  return reviveSync(data)
}
