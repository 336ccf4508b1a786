/**
 * The channel contract: Trio's memory-channel semantics as a suite any channel
 * kind must pass. `memory-channel.test.ts` runs it with `openMemoryChannel`;
 * the shared-channel tests run it with `openSharedChannel`.
 *
 * Most cases port python-trio/trio `src/trio/_tests/test_channel.py`; each
 * names the Trio test it comes from. Order (STYLE.md 11): smoke → capacity →
 * nowait → close → one producer/one consumer → many/many → fairness, then
 * cancellation, statistics and iteration.
 *
 * Deterministic: tasks are synchronised with `waitAllTasksBlocked` (Trio's
 * `wait_all_tasks_blocked`) and channel events, never with sleeps.
 */
import { CancelScope, Cancelled, currentTime, moveOnAfter, openNursery } from '@gotrio/runtime'
import { waitAllTasksBlocked } from '@gotrio/runtime/lowlevel'
import { describe, expect, it } from 'vitest'
import { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } from '../src/errors.js'
import type { ReceiveChannel, SendChannel } from '../src/types.js'

export type OpenChannel = <T>(maxBufferSize: number) => [SendChannel<T>, ReceiveChannel<T>]

/** Receives everything until EndOfChannel. */
async function drain<T>(r: ReceiveChannel<T>): Promise<T[]> {
  const got: T[] = []
  for await (const v of r) got.push(v)
  return got
}

/** Takes what is buffered right now, without waiting. */
function takeBuffered<T>(r: ReceiveChannel<T>): T[] {
  const got: T[] = []
  for (;;) {
    try {
      got.push(r.receiveNowait())
    } catch (e) {
      if (e instanceof WouldBlock) return got
      throw e
    }
  }
}

/** Runs `fn` in a cancel scope that is already cancelled. */
function cancelled<T>(fn: () => Promise<T>): Promise<T | undefined> {
  const scope = new CancelScope()
  scope.cancel()
  return scope.run(fn)
}

export function channelContract(kind: string, open: OpenChannel): void {
  describe(`${kind} channel contract`, () => {
    describe('smoke', () => {
      it('send/receive, nowait, close and EndOfChannel (trio test_channel)', async () => {
        const [s, r] = open<number | string | null>(2)
        s.sendNowait(1)
        await s.send(2)
        expect(() => s.sendNowait(null)).toThrow(WouldBlock)

        expect(await r.receive()).toBe(1)
        expect(r.receiveNowait()).toBe(2)
        expect(() => r.receiveNowait()).toThrow(WouldBlock)

        s.sendNowait('last')
        await s.aclose()
        await expect(s.send('too late')).rejects.toBeInstanceOf(ClosedResourceError)
        expect(() => s.sendNowait('too late')).toThrow(ClosedResourceError)
        expect(() => s.clone()).toThrow(ClosedResourceError)
        await s.aclose() // idempotent

        expect(r.receiveNowait()).toBe('last')
        await expect(r.receive()).rejects.toBeInstanceOf(EndOfChannel)
        await r.aclose()
        await expect(r.receive()).rejects.toBeInstanceOf(ClosedResourceError)
        expect(() => r.receiveNowait()).toThrow(ClosedResourceError)
        await r.aclose()
      })

      it('send and receive are checkpoints: cancelled, they throw even when they could complete (trio test_channel, assert_checkpoints)', async () => {
        const [s, r] = open<number>(1)
        await cancelled(async () => {
          await expect(s.send(1)).rejects.toBeInstanceOf(Cancelled)
        })
        expect(s.statistics().currentBufferUsed).toBe(0) // nothing was sent
        s.sendNowait(7)
        await cancelled(async () => {
          await expect(r.receive()).rejects.toBeInstanceOf(Cancelled)
        })
        expect(r.receiveNowait()).toBe(7) // nothing was taken
      })

      it('a receive cancelled while waiting leaves the channel usable (trio test_553)', async () => {
        const [s, r] = open<string>(1)
        const scope = new CancelScope()
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await scope.run(async () => {
              await r.receive()
            })
          })
          await waitAllTasksBlocked()
          expect(r.statistics().tasksWaitingReceive).toBe(1)
          scope.cancel()
        })
        expect(scope.cancelledCaught).toBe(true)
        expect(r.statistics().tasksWaitingReceive).toBe(0)
        await s.send('Test for PR #553')
        expect(r.receiveNowait()).toBe('Test for PR #553')
      })

      it('a receive timed out by moveOnAfter leaves the channel usable (trio test_553, with its move_on_after)', async () => {
        const [s, r] = open<string>(1)
        // Nothing ever sends: the outcome does not depend on timing.
        const result = await moveOnAfter(5, async () => r.receive())
        expect(result).toBeUndefined()
        await s.send('Test for PR #553')
        expect(r.receiveNowait()).toBe('Test for PR #553')
      })
    })

    describe('capacity', () => {
      it('size 0 is a rendezvous: nothing is buffered, send waits for a receiver (trio test_unbuffered)', async () => {
        const [s, r] = open<number>(0)
        expect(() => r.receiveNowait()).toThrow(WouldBlock)
        expect(() => s.sendNowait(1)).toThrow(WouldBlock)
        const events: string[] = []
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await s.send(1)
            events.push('sent')
          })
          await waitAllTasksBlocked()
          expect(s.statistics()).toMatchObject({ currentBufferUsed: 0, tasksWaitingSend: 1 })
          events.push('receiving')
          expect(await r.receive()).toBe(1)
        })
        expect(events).toEqual(['receiving', 'sent'])
        expect(() => r.receiveNowait()).toThrow(WouldBlock)
        expect(s.statistics().peakBufferUsed).toBe(0)
      })

      it('a waiting receiver gets the value of sendNowait on size 0', async () => {
        const [s, r] = open<number>(0)
        await openNursery(async (n) => {
          n.startSoon(async () => expect(await r.receive()).toBe(5))
          await waitAllTasksBlocked()
          s.sendNowait(5)
        })
      })

      it('size N buffers N values, then send waits', async () => {
        const [s, r] = open<number>(3)
        for (let i = 0; i < 3; i++) s.sendNowait(i)
        expect(() => s.sendNowait(3)).toThrow(WouldBlock)
        await openNursery(async (n) => {
          n.startSoon(async () => s.send(3))
          await waitAllTasksBlocked()
          expect(s.statistics()).toMatchObject({ currentBufferUsed: 3, tasksWaitingSend: 1 })
          expect(r.receiveNowait()).toBe(0) // frees a slot: the waiting sender's value moves in
        })
        expect(takeBuffered(r)).toEqual([1, 2, 3])
      })

      it('Infinity never blocks (trio test_inf_capacity)', async () => {
        const [s, r] = open<number>(Infinity)
        {
          using send = s
          for (let i = 0; i < 10; i++) send.sendNowait(i)
        }
        expect(await drain(r)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        expect(s.statistics().maxBufferSize).toBe(Infinity)
      })

      it('Infinity buffers many values in order', async () => {
        const [s, r] = open<number>(Infinity)
        for (let i = 0; i < 10_000; i++) s.sendNowait(i)
        s.close()
        const got = await drain(r)
        expect(got.length).toBe(10_000)
        expect(got.every((v, i) => v === i)).toBe(true)
      })
    })

    describe('close', () => {
      for (const how of ['aclose', 'close'] as const) {
        const trio = how === 'aclose' ? 'trio test_close_basics' : 'trio test_close_sync'
        const shut = (h: { close(): void; aclose(): Promise<void> }): Promise<void> | void => (how === 'aclose' ? h.aclose() : h.close())

        it(`closing the send handle wakes its blocked sender with ClosedResourceError, persistently, and receivers see EndOfChannel (${trio})`, async () => {
          const [s, r] = open<null>(0)
          await openNursery(async (n) => {
            n.startSoon(async () => {
              await expect(s.send(null)).rejects.toBeInstanceOf(ClosedResourceError)
            })
            await waitAllTasksBlocked()
            await shut(s)
          })
          expect(() => s.sendNowait(null)).toThrow(ClosedResourceError)
          await expect(s.send(null)).rejects.toBeInstanceOf(ClosedResourceError)
          expect(() => r.receiveNowait()).toThrow(EndOfChannel)
          await expect(r.receive()).rejects.toBeInstanceOf(EndOfChannel)
        })

        it(`closing the receive handle wakes blocked senders with BrokenResourceError, persistently (${trio})`, async () => {
          const [s, r] = open<null>(0)
          await openNursery(async (n) => {
            n.startSoon(async () => {
              await expect(s.send(null)).rejects.toBeInstanceOf(BrokenResourceError)
            })
            await waitAllTasksBlocked()
            await shut(r)
          })
          expect(() => s.sendNowait(null)).toThrow(BrokenResourceError)
          await expect(s.send(null)).rejects.toBeInstanceOf(BrokenResourceError)
        })

        it(`closing the receive handle wakes its blocked receiver with ClosedResourceError, persistently (${trio})`, async () => {
          const [, r] = open<number>(0)
          await openNursery(async (n) => {
            n.startSoon(async () => {
              await expect(r.receive()).rejects.toBeInstanceOf(ClosedResourceError)
            })
            await waitAllTasksBlocked()
            await shut(r)
          })
          expect(() => r.receiveNowait()).toThrow(ClosedResourceError)
          await expect(r.receive()).rejects.toBeInstanceOf(ClosedResourceError)
        })
      }

      it('receive clones count: the channel breaks only when every clone is closed (trio test_receive_channel_clone_and_close)', async () => {
        const [s, r] = open<null>(10)
        const r2 = r.clone()
        const r3 = r.clone()
        s.sendNowait(null)
        await r.aclose()
        {
          using _ = r2
        }
        expect(() => r.clone()).toThrow(ClosedResourceError)
        expect(() => r2.clone()).toThrow(ClosedResourceError)
        s.sendNowait(null) // r3 is still open
        await r3.aclose()
        expect(() => s.sendNowait(null)).toThrow(BrokenResourceError)
      })

      it('closing one send handle wakes only the senders blocked on it (trio test_close_multiple_send_handles)', async () => {
        const [s1, r] = open<string>(0)
        const s2 = s1.clone()
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await expect(s1.send('nope')).rejects.toBeInstanceOf(ClosedResourceError)
          })
          n.startSoon(async () => {
            await s2.send('ok')
          })
          await waitAllTasksBlocked()
          await s1.aclose()
          expect(await r.receive()).toBe('ok')
        })
      })

      it('closing one receive handle wakes only the receivers blocked on it (trio test_close_multiple_receive_handles)', async () => {
        const [s, r1] = open<string>(0)
        const r2 = r1.clone()
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await expect(r1.receive()).rejects.toBeInstanceOf(ClosedResourceError)
          })
          n.startSoon(async () => {
            expect(await r2.receive()).toBe('ok')
          })
          await waitAllTasksBlocked()
          await r1.aclose()
          await s.send('ok')
        })
      })

      it('closing the last sender lets receivers drain the buffer, then EndOfChannel', async () => {
        const [s, r] = open<number>(5)
        const s2 = s.clone()
        s.sendNowait(1)
        s2.sendNowait(2)
        s.close()
        expect(r.statistics().openSendChannels).toBe(1)
        s2.close()
        expect(r.receiveNowait()).toBe(1)
        expect(await r.receive()).toBe(2)
        await expect(r.receive()).rejects.toBeInstanceOf(EndOfChannel)
      })

      it('closing the last sender wakes every waiting receiver with EndOfChannel, on every handle', async () => {
        const [s, r] = open<number>(0)
        const r2 = r.clone()
        const ended: number[] = []
        await openNursery(async (n) => {
          for (const [i, h] of [r, r, r2].entries()) {
            n.startSoon(async () => {
              await expect(h.receive()).rejects.toBeInstanceOf(EndOfChannel)
              ended.push(i)
            })
          }
          await waitAllTasksBlocked()
          expect(r.statistics().tasksWaitingReceive).toBe(3)
          s.close()
        })
        expect(ended.sort()).toEqual([0, 1, 2])
        expect(r.statistics().tasksWaitingReceive).toBe(0)
      })

      it('closing the last receiver drops the buffer and breaks the senders', async () => {
        const [s, r] = open<number>(2)
        s.sendNowait(1)
        s.sendNowait(2)
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await expect(s.send(3)).rejects.toBeInstanceOf(BrokenResourceError)
          })
          await waitAllTasksBlocked()
          r.close()
        })
        expect(s.statistics()).toMatchObject({ currentBufferUsed: 0, tasksWaitingSend: 0, openReceiveChannels: 0 })
        expect(() => s.sendNowait(4)).toThrow(BrokenResourceError)
      })

      it('close is synchronous and idempotent; counts drop once per handle', () => {
        const [s, r] = open<number>(1)
        const s2 = s.clone()
        s.close()
        s.close()
        expect(s2.statistics().openSendChannels).toBe(1)
        r.close()
        r.close()
        expect(s2.statistics().openReceiveChannels).toBe(0)
      })

      it('aclose in a cancelled scope closes the handle, then throws Cancelled (a checkpoint)', async () => {
        const [s, r] = open<number>(1)
        await cancelled(async () => {
          await expect(s.aclose()).rejects.toBeInstanceOf(Cancelled)
        })
        expect(r.statistics().openSendChannels).toBe(0)
        await expect(r.receive()).rejects.toBeInstanceOf(EndOfChannel)
      })

      it('using / await using close the handle at the end of the block', async () => {
        const [s, r] = open<number>(1)
        {
          using s2 = s.clone()
          s2.sendNowait(1)
          expect(r.statistics().openSendChannels).toBe(2)
        }
        expect(r.statistics().openSendChannels).toBe(1)
        {
          await using s1 = s
          void s1
        }
        expect(r.statistics().openSendChannels).toBe(0)
        {
          await using r1 = r
          expect(await r1.receive()).toBe(1)
        }
        expect(() => r.receiveNowait()).toThrow(ClosedResourceError)
      })
    })

    describe('one producer, one consumer', () => {
      for (const size of [0, 1, 7, Infinity]) {
        it(`values arrive in order, size ${size} (the seed producer)`, async () => {
          const [s, r] = open<number>(size)
          let got: number[] = []
          await openNursery(async (n) => {
            n.startSoon(async () => {
              using send = s
              for (let i = 0; i < 1000; i++) await send.send(i)
            })
            using receive = r
            got = await drain(receive)
          })
          expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i))
        })
      }

      it('a send of size 0 returns only once a receiver has the value', async () => {
        const [s, r] = open<number>(0)
        const events: string[] = []
        await openNursery(async (n) => {
          n.startSoon(async () => {
            for (let i = 0; i < 3; i++) {
              await s.send(i)
              events.push(`sent ${i}`)
            }
            s.close()
          })
          for await (const v of r) events.push(`got ${v}`)
        })
        for (let i = 0; i < 3; i++) expect(events.indexOf(`got ${i}`)).toBeLessThan(events.indexOf(`sent ${i}`))
      })

      it('channels can carry channels (the seed channel of channels)', async () => {
        const [s, r] = open<ReceiveChannel<number>>(0)
        const out: (number | string)[] = []
        await openNursery(async (n) => {
          n.startSoon(async () => {
            using send = s
            for (let k = 0; k < 3; k++) {
              const [is, ir] = open<number>(0)
              n.startSoon(async () => {
                using ss = is
                for (let i = 0; i < 5; i++) await ss.send(i)
              })
              await send.send(ir)
            }
          })
          for await (const ch of r) {
            using c = ch
            for await (const v of c) out.push(v)
            out.push('---')
          }
        })
        expect(out).toEqual([0, 1, 2, 3, 4, '---', 0, 1, 2, 3, 4, '---', 0, 1, 2, 3, 4, '---'])
      })
    })

    describe('many producers, many consumers', () => {
      it('every value from every producer clone arrives once (trio test_channel_multiple_producers)', async () => {
        const [send, receive] = open<number>(0)
        let got: number[] = []
        await openNursery(async (n) => {
          {
            using s = send
            for (let i = 0; i < 10; i++) {
              n.startSoon(
                async (ch: SendChannel<number>, i: number) => {
                  await using c = ch
                  for (let j = 3 * i; j < 3 * (i + 1); j++) await c.send(j)
                },
                s.clone(),
                i,
              )
            }
          }
          got = await drain(receive)
        })
        expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i))
      })

      it('values are shared out between consumers, each once (trio test_channel_multiple_consumers)', async () => {
        const successful = new Set<number>()
        const received: number[] = []
        await openNursery(async (n) => {
          const [send, receive] = open<number>(1)
          await using s = send
          for (let i = 0; i < 5; i++) {
            n.startSoon(async () => {
              for await (const v of receive) {
                successful.add(i)
                received.push(v)
              }
            })
          }
          await waitAllTasksBlocked()
          for (let i = 0; i < 10; i++) await s.send(i)
        })
        expect(successful).toEqual(new Set([0, 1, 2, 3, 4]))
        expect(received.length).toBe(10)
        expect(new Set(received)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => i)))
      })

      it('4 producers × 4 consumers on clones: nothing lost, nothing duplicated, EndOfChannel for all', async () => {
        for (const size of [0, 3]) {
          const [send, receive] = open<number>(size)
          const got: number[] = []
          await openNursery(async (n) => {
            for (let p = 0; p < 4; p++) {
              const c = send.clone()
              n.startSoon(async () => {
                using ch = c
                for (let i = 0; i < 250; i++) await ch.send(p * 250 + i)
              })
            }
            send.close()
            for (let k = 0; k < 4; k++) {
              const c = receive.clone()
              n.startSoon(async () => {
                using ch = c
                for await (const v of ch) got.push(v)
              })
            }
            receive.close()
          })
          expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
        }
      })
    })

    describe('fairness', () => {
      it('a waiting receiver owns the next value; a waiting sender owns the next free slot (trio test_channel_fairness)', async () => {
        {
          const [s, r] = open<number | null>(1)
          s.sendNowait(1)
          expect(r.receiveNowait()).toBe(1)
          s.sendNowait(2)
          expect(r.receiveNowait()).toBe(2)

          let result: number | null = null
          await openNursery(async (n) => {
            n.startSoon(async () => {
              result = await r.receive()
            })
            await waitAllTasksBlocked()
            s.sendNowait(2)
            expect(() => r.receiveNowait()).toThrow(WouldBlock)
          })
          expect(result).toBe(2)
        }
        {
          const [s, r] = open<number | null>(1)
          s.sendNowait(1)
          expect(() => s.sendNowait(null)).toThrow(WouldBlock)
          await openNursery(async (n) => {
            n.startSoon(async () => s.send(2))
            await waitAllTasksBlocked()
            expect(r.receiveNowait()).toBe(1)
            expect(() => s.sendNowait(3)).toThrow(WouldBlock)
            expect(await r.receive()).toBe(2)
          })
        }
      })

      it('the longest-waiting receiver is served first', async () => {
        const [s, r] = open<number>(0)
        const got: [number, number][] = []
        await openNursery(async (n) => {
          for (let i = 0; i < 3; i++) {
            n.startSoon(async () => {
              got.push([i, await r.receive()])
            })
            await waitAllTasksBlocked() // receiver i is queued before receiver i+1 starts
          }
          for (let v = 10; v < 13; v++) s.sendNowait(v)
        })
        expect(got).toEqual([
          [0, 10],
          [1, 11],
          [2, 12],
        ])
      })

      it('the longest-waiting sender is served first', async () => {
        const [s, r] = open<number>(1)
        s.sendNowait(0)
        await openNursery(async (n) => {
          for (let i = 1; i <= 3; i++) {
            n.startSoon(async () => s.send(i))
            await waitAllTasksBlocked()
          }
          expect(s.statistics().tasksWaitingSend).toBe(3)
          expect([r.receiveNowait(), r.receiveNowait(), r.receiveNowait(), r.receiveNowait()]).toEqual([0, 1, 2, 3])
        })
      })
    })

    describe('cancellation', () => {
      it('a send whose deadline has passed (its timer not fired yet) to a channel with no receiver left throws Cancelled, not BrokenResourceError', async () => {
        const [s, r] = open<number>(1)
        r.close()
        const scope = new CancelScope({ deadline: currentTime() + 20 })
        await scope.run(async () => {
          const until = scope.deadline + 1
          while (currentTime() < until) {} // past the deadline without a turn of the event loop
          await s.send(1)
        })
        expect(scope.cancelledCaught).toBe(true)
        await expect(s.send(1)).rejects.toBeInstanceOf(BrokenResourceError) // outside the scope: broken
      })

      it('a cancelled send delivered nothing (size 0)', async () => {
        const [s, r] = open<number>(0)
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await expect(s.send(1)).rejects.toBeInstanceOf(Cancelled)
          })
          await waitAllTasksBlocked()
          n.cancelScope.cancel()
        })
        expect(s.statistics().tasksWaitingSend).toBe(0)
        expect(() => r.receiveNowait()).toThrow(WouldBlock)
      })

      it('cancelling one of several waiting senders removes only its value, order kept', async () => {
        const [s, r] = open<number>(0)
        const scopes = [new CancelScope(), new CancelScope(), new CancelScope()]
        await openNursery(async (n) => {
          for (let i = 0; i < 3; i++) {
            n.startSoon(async () => {
              await scopes[i]!.run(async () => s.send(i))
            })
            await waitAllTasksBlocked()
          }
          scopes[1]!.cancel()
          await waitAllTasksBlocked()
          expect(s.statistics().tasksWaitingSend).toBe(2)
          expect(r.receiveNowait()).toBe(0)
          expect(r.receiveNowait()).toBe(2)
        })
        expect(scopes.map((sc) => sc.cancelledCaught)).toEqual([false, true, false])
      })

      it('a cancelled receive took nothing: the next value goes to the buffer or the next receiver', async () => {
        const [s, r] = open<number>(1)
        const scope = new CancelScope()
        let second: number | undefined
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await scope.run(async () => {
              await r.receive()
              throw new Error('unreachable: the cancelled receive got a value')
            })
          })
          await waitAllTasksBlocked()
          n.startSoon(async () => {
            second = await r.receive()
          })
          await waitAllTasksBlocked()
          scope.cancel()
          await waitAllTasksBlocked()
          s.sendNowait(42)
        })
        expect(scope.cancelledCaught).toBe(true)
        expect(second).toBe(42)
      })

      it('a cancelled iteration step loses nothing', async () => {
        const [s, r] = open<number>(1)
        const scope = new CancelScope()
        await openNursery(async (n) => {
          n.startSoon(async () => {
            await scope.run(async () => {
              for await (const _ of r) throw new Error('unreachable')
            })
          })
          await waitAllTasksBlocked()
          scope.cancel()
        })
        s.sendNowait(9)
        expect(r.receiveNowait()).toBe(9)
      })
    })

    describe('statistics', () => {
      it('reports buffer, open handles and waiting tasks (trio test_statistics)', async () => {
        const [s, r] = open<null>(2)
        expect(s.statistics()).toEqual(r.statistics())
        expect(s.statistics()).toEqual({
          currentBufferUsed: 0,
          maxBufferSize: 2,
          openSendChannels: 1,
          openReceiveChannels: 1,
          tasksWaitingSend: 0,
          tasksWaitingReceive: 0,
          peakBufferUsed: 0,
        })

        s.sendNowait(null)
        expect(s.statistics().currentBufferUsed).toBe(1)

        const s2 = s.clone()
        expect(s.statistics().openSendChannels).toBe(2)
        await s.aclose()
        expect(s2.statistics().openSendChannels).toBe(1)

        const r2 = r.clone()
        expect(s2.statistics().openReceiveChannels).toBe(2)
        await r2.aclose()
        expect(s2.statistics().openReceiveChannels).toBe(1)

        await openNursery(async (n) => {
          s2.sendNowait(null) // fill up the buffer
          expect(s.statistics().currentBufferUsed).toBe(2)
          n.startSoon(async () => s2.send(null))
          n.startSoon(async () => s2.send(null))
          await waitAllTasksBlocked()
          expect(s.statistics().tasksWaitingSend).toBe(2)
          n.cancelScope.cancel()
        })
        expect(s.statistics().tasksWaitingSend).toBe(0)

        takeBuffered(r) // empty out the buffer again

        await openNursery(async (n) => {
          n.startSoon(async () => r.receive())
          await waitAllTasksBlocked()
          expect(s.statistics().tasksWaitingReceive).toBe(1)
          n.cancelScope.cancel()
        })
        expect(s.statistics().tasksWaitingReceive).toBe(0)
      })

      it('peakBufferUsed is the largest buffer use seen', () => {
        const [s, r] = open<number>(Infinity)
        for (let i = 0; i < 5; i++) s.sendNowait(i)
        takeBuffered(r)
        s.sendNowait(9)
        expect(s.statistics()).toMatchObject({ currentBufferUsed: 1, peakBufferUsed: 5 })
      })
    })

    describe('async iteration', () => {
      it('ends at EndOfChannel and leaves the handle open', async () => {
        const [s, r] = open<number>(3)
        s.sendNowait(1)
        s.sendNowait(2)
        s.close()
        expect(await drain(r)).toEqual([1, 2])
        expect(r.statistics().openReceiveChannels).toBe(1)
      })

      it('breaking out of the loop does not close the handle', async () => {
        const [s, r] = open<number>(3)
        for (let i = 0; i < 3; i++) s.sendNowait(i)
        for await (const v of r) if (v === 0) break
        expect(r.receiveNowait()).toBe(1)
      })

      it('at the end of the channel, a step whose deadline has passed throws Cancelled, not the end, as receive() does (the checkpoint comes first)', async () => {
        const [s, r] = open<number>(2)
        s.sendNowait(1)
        s.close()
        const seen: number[] = []
        const scope = new CancelScope({ deadline: currentTime() + 20 })
        await scope.run(async () => {
          for await (const v of r) {
            seen.push(v)
            // Past the deadline before the next step, with no turn of the event loop: its timer
            // has not fired, so only the step itself can see the cancellation.
            const until = scope.deadline + 1
            while (currentTime() < until) {}
          }
          throw new Error('unreachable: the end of the channel was reported instead of Cancelled')
        })
        expect(seen).toEqual([1])
        expect(scope.cancelledCaught).toBe(true)
        await expect(r.receive()).rejects.toBeInstanceOf(EndOfChannel) // outside the scope: the end
      })

      it('iterating a closed handle throws ClosedResourceError', async () => {
        const [, r] = open<number>(0)
        r.close()
        await expect(drain(r)).rejects.toBeInstanceOf(ClosedResourceError)
      })
    })
  })
}
