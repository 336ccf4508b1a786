/** Test helpers (Trio's `wait_all_tasks_blocked`). */
import { macrotask } from './context.ts'
import { activity } from './status.ts'

/**
 * Resolves once every task of this thread that can run has run until it waits
 * on something: no operation parked or woke during two event-loop turns.
 * Tasks waiting on timers or other threads count as blocked.
 */
export async function waitAllTasksBlocked(): Promise<void> {
  for (;;) {
    const before = activity()
    await macrotask()
    await macrotask()
    if (activity() === before) return
  }
}
