/** phases.ts's producer: the seed's `produce` task, returning its thread's counters and events (hooks.ts). */
import type { SharedSendChannel } from '@gotrio/channels'
import { take } from './hooks.ts'

export async function produce(s: SharedSendChannel<number>, n: number): Promise<ReturnType<typeof take>> {
  take()
  {
    await using tx = s
    for (let i = 0; i < n; i++) await tx.send(i)
  }
  return take()
}
