/** The channel interfaces shared by memory channels and shared (cross-thread) channels. */

/** A snapshot of a channel's state. For shared channels it can be stale by the time you read it. */
export interface ChannelStatistics {
  /** Values in the buffer now. */
  currentBufferUsed: number
  /** The capacity given at creation (0 = rendezvous, Infinity = unbounded). */
  maxBufferSize: number
  /** Send handles not yet closed (clones count). */
  openSendChannels: number
  /** Receive handles not yet closed (clones count). */
  openReceiveChannels: number
  /** Tasks blocked in `send`. */
  tasksWaitingSend: number
  /** Tasks blocked in `receive`. */
  tasksWaitingReceive: number
  /** The largest `currentBufferUsed` ever seen. */
  peakBufferUsed: number
}

export interface SendChannel<T> extends AsyncDisposable, Disposable {
  /**
   * Sends `value`, waiting while the buffer is full (or, for size 0, until a
   * receiver takes it). Either completes, or throws `Cancelled` having sent
   * nothing. Throws `ClosedResourceError` if this handle is closed,
   * `BrokenResourceError` if every receiver is closed.
   */
  send(value: T): Promise<void>
  /** Sends without waiting, or throws `WouldBlock` (nothing sent). */
  sendNowait(value: T): void
  /** Another handle on the same channel; the channel's send side closes when every clone is closed. */
  clone(): SendChannel<T>
  /** Closes this handle. Synchronous and idempotent. Blocked `send`s on it throw `ClosedResourceError`. */
  close(): void
  /** `close()`, as a checkpoint. */
  aclose(): Promise<void>
  statistics(): ChannelStatistics
}

export interface ReceiveChannel<T> extends AsyncDisposable, Disposable, AsyncIterable<T> {
  /**
   * Receives the next value, waiting while none is available. Throws
   * `EndOfChannel` once every sender is closed and the buffer is drained;
   * `Cancelled` having taken nothing; `ClosedResourceError` if this handle is closed.
   */
  receive(): Promise<T>
  /** Receives without waiting, or throws `WouldBlock` (nothing taken). */
  receiveNowait(): T
  /**
   * Receives a batch: waits for at least one value, then takes up to `max`
   * (a positive integer or Infinity) without waiting more. One receive in
   * every other respect (EndOfChannel, Cancelled having taken nothing,
   * ClosedResourceError).
   */
  receiveMany(max: number): Promise<T[]>
  /** Takes 1..`max` values without waiting, or throws `WouldBlock` (nothing taken). */
  receiveManyNowait(max: number): T[]
  clone(): ReceiveChannel<T>
  /** Closes this handle; closing the last receiver drops the buffer and breaks the senders. */
  close(): void
  aclose(): Promise<void>
  statistics(): ChannelStatistics
}
