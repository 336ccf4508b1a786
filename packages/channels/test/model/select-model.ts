/**
 * A reference model of `select` over a few memory channels (API.md "Select"
 * with Trio's channel rules), for the model-based test in
 * select-model.property.test.ts. Pure and synchronous.
 *
 * What it models:
 *  - each channel: capacity (0, n, Infinity), a FIFO buffer, FIFO queues of
 *    waiting send and receive *entries*, and one send and one receive handle
 *    (open or closed);
 *  - a waiting task is a select with one entry per case (a plain send or
 *    receive is a select of one case that fails with EndOfChannel instead of
 *    calling onEnd); the first operation that pairs with one of its entries
 *    commits that case and removes all its entries (exactly one case
 *    commits; a select never pairs with itself: it only waits once no case
 *    is ready);
 *  - readiness: a receive case is ready if a sender waits, a value is
 *    buffered or the send handle is closed (the end); a send case if a
 *    receiver waits, the buffer has room, or the receive handle is closed
 *    (broken);
 *  - which ready case a select takes is random in the real thing: the model
 *    is told the real choice (`chosen`) and checks it was ready (an
 *    oracle-guided model: it checks the choice was allowed, then follows it).
 *  - closes: closing a handle fails its own waiting entries' tasks with
 *    ClosedResourceError; the last send handle ends the waiting receivers
 *    (onEnd); the last receive handle drops the buffer and breaks the waiting
 *    senders (BrokenResourceError); cancelling a waiting task withdraws it.
 *
 * Not modelled: clones (one handle per side), several cases on the same
 * channel and direction in one select (tested by hand in select.test.ts).
 */

export interface Case {
  readonly ch: number
  readonly dir: 'send' | 'recv'
  /** The value a send case offers (unique per program). */
  readonly value?: number
}

export type Outcome =
  | { readonly state: 'waiting' }
  | { readonly state: 'ok'; readonly caseIndex: number; readonly value?: number; readonly end?: true }
  | { readonly state: 'error'; readonly error: string }

interface Entry {
  readonly task: number
  readonly caseIndex: number
  readonly value?: number
}

interface Chan {
  readonly cap: number
  readonly buf: number[]
  readonly sendQ: Entry[]
  readonly recvQ: Entry[]
  sendOpen: boolean
  recvOpen: boolean
}

interface Task {
  readonly cases: readonly Case[]
  /** A plain send/receive: the end is EndOfChannel, not onEnd. */
  readonly plain: boolean
}

export class SelectModel {
  readonly chans: Chan[]
  /** Tasks still waiting. */
  readonly waiting = new Map<number, Task>()
  readonly outcomes = new Map<number, Outcome>()

  constructor(capacities: readonly number[]) {
    this.chans = capacities.map((cap) => ({ cap, buf: [], sendQ: [], recvQ: [], sendOpen: true, recvOpen: true }))
  }

  /** The first error the call reports before committing (a closed handle), or undefined. */
  private closedCase(cases: readonly Case[]): boolean {
    return cases.some((c) => (c.dir === 'send' ? !this.chans[c.ch]!.sendOpen : !this.chans[c.ch]!.recvOpen))
  }

  ready(c: Case): boolean {
    const ch = this.chans[c.ch]!
    if (c.dir === 'recv') return ch.sendQ.length > 0 || ch.buf.length > 0 || !ch.sendOpen
    return !ch.recvOpen || ch.recvQ.length > 0 || ch.buf.length < ch.cap
  }

  /** Removes every entry of `task` from every queue. */
  private withdraw(task: number): void {
    for (const ch of this.chans) {
      for (const q of [ch.sendQ, ch.recvQ]) {
        for (let k = q.length - 1; k >= 0; k--) if (q[k]!.task === task) q.splice(k, 1)
      }
    }
    this.waiting.delete(task)
  }

  private settle(task: number, o: Outcome): void {
    this.withdraw(task)
    this.outcomes.set(task, o)
  }

  /** Applies a ready case's effect; returns what the case got. */
  private perform(c: Case): { value?: number; end?: true; broken?: true } {
    const ch = this.chans[c.ch]!
    if (c.dir === 'recv') {
      const s = ch.sendQ.shift()
      if (s !== undefined) {
        this.settle(s.task, { state: 'ok', caseIndex: s.caseIndex })
        if (ch.buf.length === 0) return { value: s.value! }
        const v = ch.buf.shift()!
        ch.buf.push(s.value!)
        return { value: v }
      }
      if (ch.buf.length > 0) return { value: ch.buf.shift()! }
      return { end: true }
    }
    if (!ch.recvOpen) return { broken: true }
    const r = ch.recvQ.shift()
    if (r !== undefined) this.settle(r.task, { state: 'ok', caseIndex: r.caseIndex, value: c.value! })
    else ch.buf.push(c.value!)
    return {}
  }

  private outcomeOf(task: Task, caseIndex: number, got: { value?: number; end?: true; broken?: true }): Outcome {
    if (got.broken) return { state: 'error', error: 'BrokenResourceError' }
    if (got.end) return task.plain ? { state: 'error', error: 'EndOfChannel' } : { state: 'ok', caseIndex, end: true }
    return got.value === undefined ? { state: 'ok', caseIndex } : { state: 'ok', caseIndex, value: got.value }
  }

  /**
   * A blocking select (or plain op) by `task`. `real`: how the real call
   * stands once it settled; a case it committed at once is the model's
   * choice too (checked to be ready). Returns an error text if that choice
   * was not allowed.
   */
  start(taskId: number, cases: readonly Case[], plain: boolean, real: Outcome): string | undefined {
    const task: Task = { cases, plain }
    let chosen: number | undefined
    if (real.state === 'ok') chosen = real.caseIndex
    else if (real.state === 'error' && plain) chosen = 0
    else if (real.state === 'error' && real.error === 'BrokenResourceError') {
      chosen = cases.findIndex((c) => c.dir === 'send' && !this.chans[c.ch]!.recvOpen)
    }
    if (this.closedCase(cases)) {
      this.outcomes.set(taskId, { state: 'error', error: 'ClosedResourceError' })
      return undefined
    }
    const ready = cases.map((c, k) => (this.ready(c) ? k : -1)).filter((k) => k >= 0)
    if (ready.length === 0) {
      if (chosen !== undefined) return `task ${taskId} committed case ${chosen} but no case was ready`
      this.waiting.set(taskId, task)
      cases.forEach((c, k) => {
        const ch = this.chans[c.ch]!
        ;(c.dir === 'send' ? ch.sendQ : ch.recvQ).push({ task: taskId, caseIndex: k, value: c.value })
      })
      this.outcomes.set(taskId, { state: 'waiting' })
      return undefined
    }
    if (chosen === undefined || !ready.includes(chosen))
      return `task ${taskId} chose ${String(chosen)}; ready cases were ${ready.join(',')}`
    this.outcomes.set(taskId, this.outcomeOf(task, chosen, this.perform(cases[chosen]!)))
    return undefined
  }

  /** selectNowait: `real` is what the real call returned or threw; a committed case is the model's choice too. */
  nowait(cases: readonly Case[], real: Outcome | 'WouldBlock'): { outcome: Outcome | 'WouldBlock'; error?: string } {
    let chosen: number | undefined
    if (real !== 'WouldBlock' && real.state === 'ok') chosen = real.caseIndex
    else if (real !== 'WouldBlock' && real.state === 'error' && real.error === 'BrokenResourceError') {
      chosen = cases.findIndex((c) => c.dir === 'send' && !this.chans[c.ch]!.recvOpen)
    }
    if (this.closedCase(cases)) return { outcome: { state: 'error', error: 'ClosedResourceError' } }
    const ready = cases.map((c, k) => (this.ready(c) ? k : -1)).filter((k) => k >= 0)
    if (ready.length === 0)
      return chosen === undefined
        ? { outcome: 'WouldBlock' }
        : { outcome: 'WouldBlock', error: `selectNowait chose ${chosen}; none was ready` }
    if (chosen === undefined || !ready.includes(chosen))
      return { outcome: 'WouldBlock', error: `selectNowait chose ${String(chosen)}; ready: ${ready.join(',')}` }
    return { outcome: this.outcomeOf({ cases, plain: false }, chosen, this.perform(cases[chosen]!)) }
  }

  cancel(taskId: number): void {
    if (this.waiting.has(taskId)) this.settle(taskId, { state: 'error', error: 'Cancelled' })
  }

  closeSend(c: number): void {
    const ch = this.chans[c]!
    if (!ch.sendOpen) return
    ch.sendOpen = false
    for (const e of [...ch.sendQ]) if (this.waiting.has(e.task)) this.settle(e.task, { state: 'error', error: 'ClosedResourceError' })
    for (const e of [...ch.recvQ]) {
      const t = this.waiting.get(e.task)
      if (t !== undefined) this.settle(e.task, this.outcomeOf(t, e.caseIndex, { end: true }))
    }
  }

  closeReceive(c: number): void {
    const ch = this.chans[c]!
    if (!ch.recvOpen) return
    ch.recvOpen = false
    for (const e of [...ch.recvQ]) if (this.waiting.has(e.task)) this.settle(e.task, { state: 'error', error: 'ClosedResourceError' })
    ch.buf.length = 0
    for (const e of [...ch.sendQ]) if (this.waiting.has(e.task)) this.settle(e.task, { state: 'error', error: 'BrokenResourceError' })
  }

  statistics(c: number): { currentBufferUsed: number; tasksWaitingSend: number; tasksWaitingReceive: number } {
    const ch = this.chans[c]!
    return { currentBufferUsed: ch.buf.length, tasksWaitingSend: ch.sendQ.length, tasksWaitingReceive: ch.recvQ.length }
  }
}
