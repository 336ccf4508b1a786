/**
 * An intrusive FIFO of waiting operations (the tasks blocked in `send` or
 * `receive` on one memory channel). Intrusive: the links live in the waiting
 * operation itself, so enqueueing allocates nothing and a cancelled waiter is
 * removed from the middle in O(1), which "longest-waiting task served first"
 * plus cancellation needs (a plain array would need a search and a splice).
 *
 * Invariants:
 *  - a node is in at most one queue; `node.queue === q` exactly while it is
 *    linked into `q`.
 *  - `length` is the number of linked nodes; `head === undefined` iff
 *    `length === 0` iff `tail === undefined`.
 *  - following `qNext` from `head` reaches every node once, oldest first.
 *
 * How the memory channels use it (memory-channel-state.ts): each channel has
 * a `sendWaiters` and a `receiveWaiters` queue of waiting records (`SendOp`,
 * `ReceiveOp`, both `Parked` records of @gotrio/runtime/lowlevel). The rules
 * that make "completes, or is cancelled having had no effect" hold:
 *  - W1 the only way out of a queue that completes an operation is `shift()`
 *       by the channel's engine (`offer` dequeues a receiver, `take` a
 *       sender), which then completes the record at once (`wake`, or
 *       `wakeSoon`/`wakeLater`, which settle at once and only resume the task
 *       later);
 *  - W2 the other ways out, `remove()` by the record's own `abort()` (its
 *       task was cancelled) and `removeWhere()`/`drain()` when a handle closes,
 *       complete the record with an error, never with a value;
 *  - W3 so `node.queue !== undefined` means "still waiting, nothing happened":
 *       `abort()` checks exactly that, and returns false (too late) once a
 *       node has been dequeued by W1.
 * An operation that waits on several queues at once (Go's `select`) needs
 * one node per queue, because a node is linked into at most one queue; such
 * nodes must share one "committed" decision so that W1 completes at most one
 * of them and the others leave their queues with no effect.
 */

/** The link fields a queued operation carries. Written only by WaiterQueue. */
export interface QueueNode {
  /** The queue this node is linked into, or undefined when not queued. */
  queue: WaiterQueue<QueueNode> | undefined
  /** The next-older node (towards head). */
  qPrev: QueueNode | undefined
  /** The next-newer node (towards tail). */
  qNext: QueueNode | undefined
}

export class WaiterQueue<N extends QueueNode> {
  /** The longest-waiting node: served first. */
  private head: N | undefined
  /** The newest node. */
  private tail: N | undefined
  /** How many nodes are linked. */
  length = 0

  /** Links `node` as the newest waiter. */
  push(node: N): void {
    node.queue = this as WaiterQueue<QueueNode>
    node.qPrev = this.tail
    node.qNext = undefined
    if (this.tail) this.tail.qNext = node
    else this.head = node
    this.tail = node
    this.length++
  }

  /** Unlinks and returns the longest-waiting node, or undefined if none waits. */
  shift(): N | undefined {
    const node = this.head
    if (node !== undefined) this.remove(node)
    return node
  }

  /** Unlinks `node`, which must be linked into this queue. */
  remove(node: N): void {
    const prev = node.qPrev as N | undefined
    const next = node.qNext as N | undefined
    if (prev) prev.qNext = next
    else this.head = next
    if (next) next.qPrev = prev
    else this.tail = prev
    node.qPrev = node.qNext = node.queue = undefined
    this.length--
  }

  /** Unlinks and returns every node for which `pick(node)` is true, oldest first. */
  removeWhere(pick: (node: N) => boolean): N[] {
    const out: N[] = []
    for (let node = this.head; node !== undefined; ) {
      const next = node.qNext as N | undefined
      if (pick(node)) {
        this.remove(node)
        out.push(node)
      }
      node = next
    }
    return out
  }

  /** Unlinks and returns every node, oldest first. */
  drain(): N[] {
    return this.removeWhere(() => true)
  }
}
