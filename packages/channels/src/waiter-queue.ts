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
