/**
 * Memory channels: Trio's `open_memory_channel`, for tasks of one thread.
 *
 * ```ts
 * const [send, receive] = openMemoryChannel<number>(0)
 * await openNursery(async (n) => {
 *   n.startSoon(async () => {
 *     using s = send                       // closing the last sender ends the receivers' loops
 *     for (let i = 0; i < 5; i++) await s.send(i)
 *   })
 *   for await (const x of receive) console.log(x)   // 0..4, then EndOfChannel ends the loop
 * })
 * ```
 *
 * One `MemoryChannelState` (the engine) holds the buffer, the two wait queues
 * and the open-handle counts; `MemorySendChannel`/`MemoryReceiveChannel` are
 * handles on it (thin facades: a closed flag and the checks). `clone()` makes
 * another handle on the same state.
 *
 * The parts: memory-channel-state.ts holds the engine, its waiting records and
 * invariants M1–M7; memory-send-channel.ts and memory-receive-channel.ts the
 * two handles. This module imports all three (none imports it back) and only
 * opens channels.
 */
import { checkMaxBufferSize } from './validate.ts'
import { MemoryChannelState } from './memory-channel-state.ts'
import { MemoryReceiveChannel } from './memory-receive-channel.ts'
import { MemorySendChannel } from './memory-send-channel.ts'

/**
 * Opens a channel for passing values between tasks of this thread, like
 * `trio.open_memory_channel`. Data flows left to right: `[send, receive]`.
 * `maxBufferSize` is how many values may wait in the buffer before `send`
 * blocks: 0 is a rendezvous (`send` returns once a receiver has the value),
 * `Infinity` never blocks. TypeError if not an integer, RangeError if negative.
 */
export function openMemoryChannel<T>(maxBufferSize: number): [MemorySendChannel<T>, MemoryReceiveChannel<T>] {
  const state = new MemoryChannelState<T>(checkMaxBufferSize('openMemoryChannel(maxBufferSize)', maxBufferSize))
  return [new MemorySendChannel<T>(state), new MemoryReceiveChannel<T>(state)]
}
