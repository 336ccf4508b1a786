/**
 * The worker bootstrap of shared channels: the runtime (or a test that starts
 * raw workers) calls `bootstrapWorker(arena)` in every worker before any task,
 * with the SharedArrayBuffer the main thread's arena is built on.
 *
 * Registration happens in open.ts at module load, on every thread that has an
 * arena, so a worker that starts workers of its own hands the same arena on.
 */
import { registerWorkerBootstrap } from '@gotrio/runtime/lowlevel'
import { adoptArena, arenaBuffer } from './arena.ts'
import './deadlock-hooks.ts' // loaded wherever channels are: the keep-alive is gotrio's own handle (deadlock detection)

export const BOOTSTRAP_MODULE = new URL(`./bootstrap${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url).href

export function bootstrapWorker(data: unknown): void {
  adoptArena(data as SharedArrayBuffer)
  registerArenaBootstrap()
}

export function registerArenaBootstrap(): void {
  if (arenaBuffer()) registerWorkerBootstrap(BOOTSTRAP_MODULE, () => arenaBuffer())
}
