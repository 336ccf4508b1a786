/**
 * The shared-memory layout of one shared channel: a header of Int32 words, a
 * ring of per-slot meta words, and a ring of data slots, allocated as one block
 * of the process-wide arena (arena.ts). Every thread computes the same layout
 * from the header words it reads; no offset appears anywhere else as a number.
 *
 * Header (Int32 index relative to the channel's base index; "lock" = written
 * only while holding the channel lock `H_LOCK`, read by anyone under the lock
 * unless noted). Read without the lock, as hints only (spinning, spin.ts;
 * `statistics()`): H_LIVE, H_OV_COUNT, H_SEND_OPEN, H_RECV_OPEN, the owner
 * table; and by a sender spinning on its unregistered offer, H_HEAD_SEQ, whose
 * racy read is final once it passes the offer's ticket (ring.ts "The
 * unregistered offer": it only grows). No word is written without the lock
 * except the futex words' Atomics.add (under it too), H_LOCK itself, and, on a
 * fast channel (H_FAST != 0), H_PEAK (raised by CAS by lock-free senders).
 * On a fast channel the lock-free paths also read H_RECV_WAITING (senders,
 * after publishing a value) with Atomics.load; registrations write it, and
 * H_SEND_WAITING, with Atomics.add so that read is ordered (fast-slots.ts,
 * "Ordering").
 *
 * | idx | name            | written by                 | meaning                                                         |
 * |-----|-----------------|----------------------------|-----------------------------------------------------------------|
 * |  0  | H_LOCK          | any thread (CAS)           | channel mutex: 0 free, 1 held, 2 held and someone sleeps on it   |
 * |  1  | H_GEN           | allocator (create/free)    | generation; a stale handle compares it before reading stats      |
 * |  2  | H_CAPACITY      | creator, then read-only    | maxBufferSize (0 = rendezvous)                                   |
 * |  3  | H_SLOTS         | creator, then read-only    | ring slots: capacity + OVERFLOW_SLOTS (size 0: RENDEZVOUS_SLOTS; |
 * |     |                 |                            | with overflow chunks: OVERFLOW_RING_SLOTS)                       |
 * |  4  | H_CODEC         | creator, then read-only    | codec kind (CODEC_* below)                                       |
 * |  5  | H_SLOT_BYTES    | creator, then read-only    | bytes per data slot                                              |
 * |  6  | H_HEAD_IDX      | lock (receivers)           | slot index of the oldest entry, 0 <= i < slots                   |
 * |  7  | H_HEAD_SEQ      | lock (receivers)           | entries ever removed from the head (wraps at 2^32): a ticket     |
 * |  8  | H_COUNT         | lock                       | entries in the ring, tombstones included, <= slots               |
 * |  9  | H_LIVE          | lock                       | entries that are values (not tombstones); min(LIVE, cap) is used |
 * | 10  | H_PEAK          | lock                       | largest min(H_LIVE, capacity) seen                               |
 * | 11  | H_SEND_OPEN     | lock                       | open send handles, in every thread (moves do not change it)      |
 * | 12  | H_RECV_OPEN     | lock                       | open receive handles                                             |
 * | 13  | H_SEND_WAITING  | lock                       | send operations registered as waiting (all threads)              |
 * | 14  | H_RECV_WAITING  | lock                       | receive operations registered as waiting (all threads)           |
 * | 15  | H_HANDOFFS      | lock                       | size 0: entries promised to waiting receivers (see ring.ts)      |
 * | 16  | H_SEQ_SEND      | lock (Atomics.add)         | futex word senders sleep on; bumped when a send may proceed      |
 * | 17  | H_SEQ_RECV      | lock (Atomics.add)         | futex word receivers sleep on; bumped when a receive may proceed |
 * | 18  | H_BYTES_BUDGET  | creator, then read-only    | maxBufferBytes: out-of-line bytes allowed in flight              |
 * | 19  | H_BYTES_USED    | lock                       | out-of-line bytes now held by entries                            |
 * | 20  | H_NEXT          | arena lock                 | next channel in the arena's list of live channels (0 = none)     |
 * | 21  | H_PREV          | arena lock                 | previous channel in that list (0 = none)                         |
 * | 22  | H_BLOCK         | creator, then read-only    | byte offset of this block (= base), to free it                   |
 * | 23  | H_ARMED         | lock                       | bit 1: a sender read H_SEQ_SEND since its last bump; bit 2: same |
 * |     |                 |                            | for receivers and H_SEQ_RECV (ring.ts "Wake-ups")                |
 * | 24  | H_OV_FIRST      | lock                       | with overflow: the oldest overflow chunk's block (0 = none)      |
 * | 25  | H_OV_LAST       | lock                       | with overflow: the newest overflow chunk's block (0 = none)      |
 * | 26  | H_OV_COUNT      | lock                       | with overflow: values waiting in overflow chunks                 |
 * | 27  | H_SELECTS       | lock                       | select registrations waiting here (select/shared.ts): bits 0..14 |
 * |     |                 |                            | receive cases, bits 15..29 send cases; each is also counted in   |
 * |     |                 |                            | H_SEND_/H_RECV_WAITING (wake-ups, statistics) but is never       |
 * |     |                 |                            | promised a size-0 value (ring.ts "Select")                       |
 * |28-29| H_MAXBUF        | creator, then read-only    | maxBufferSize exactly, as a Float64 (Infinity, or any integer)   |
 * | 30  | H_FAST          | creator, then read-only    | 1: the buffer is lock-free (fast-slots.ts): the first            |
 * |     |                 |                            | OVERFLOW_SLOTS meta/data slots are the locked queue of offers,   |
 * |     |                 |                            | the other `capacity` meta words are its stamps and the other     |
 * |     |                 |                            | data slots its values. 0: the locked ring is the buffer.         |
 * |     |                 |                            | FAST_ZERO_SLOT (2): size 0 with the lock-free slot (zero-slot.ts)|
 * |31   | (unused)        |                            |                                                                  |
 * | 32  | H_FHEAD         | receivers (CAS), no lock   | fast: the lock-free buffer's head position (own cache line);   |
 * |     |                 |                            | size 0 with the slot: the slot's head (zero-slot.ts)            |
 * |33-47| (padding)       |                            | keeps H_FHEAD's line apart from H_FSLOW's                        |
 * | 48  | H_FSLOW         | lock                       | fast: 1 while the tail's SLOW bit is set (F1), on a line that    |
 * |     |                 |                            | only lock holders write: what lock-free receivers read after a   |
 * |     |                 |                            | take (the tail's line is the senders')                           |
 * |49-63| (padding)       |                            | keeps H_FSLOW's line apart from H_FTAIL's                        |
 * | 64  | H_FTAIL         | senders (CAS), no lock;    | fast: the tail position, and the SLOW bit (fast-slots.ts, F1);   |
 * |     |                 |                            | size 0 with the slot: its tail and SLOW (zero-slot.ts, Z3)       |
 * |     |                 | SLOW bit: the lock holder  |                                                                  |
 * |65-95| (padding)       |                            | keeps H_FTAIL's line apart from the owner table's; on a size-0  |
 * |     |                 |                            | channel with the lock-free slot (H_FAST = FAST_ZERO_SLOT), its  |
 * |     |                 |                            | first 64-byte-aligned 16 words are that slot's one cache line   |
 * |     |                 |                            | (`zeroSlotWord`; zero-slot.ts has the slot's own table)         |
 * | 96..| owner table     | lock                       | OWNER_ENTRIES × [threadId+1, sendHandles, recvHandles,           |
 * |     |                 |                            |   sendWaiting, recvWaiting, selects]; threadId+1 = 0 marks a     |
 * |     |                 |                            |   free entry; `selects` is that thread's share of H_SELECTS      |
 * |     |                 |                            |   (same two fields), so a dead thread's watchers are forgotten   |
 *
 * After the header: `slots` meta words (Int32, one per ring slot: ENTRY_* kind
 * and flags), then the data slots, 8-byte aligned, `slots × slotBytes` bytes.
 *
 * A channel larger than MAX_RING_CAPACITY (Infinity included) has a ring of
 * OVERFLOW_RING_SLOTS; values that arrive while it is full wait in a list of
 * overflow chunks (overflow.ts), oldest first. Its H_CAPACITY is
 * maxBufferSize capped at CAPACITY_INFINITE (the bound sends check: no more
 * values than that fit in the arena anyway); H_MAXBUF keeps the exact size.
 *
 * A numeric slot (int32/uint32: 4 bytes, float64: 8 bytes) holds the number.
 * A byte slot (structured / user codec) holds [length, outOfLineOffset] as two
 * Int32 words followed by up to `slotBytes - 8` inline bytes; a longer value
 * lives in an arena block whose offset is the second word.
 *
 * A fast channel of a byte codec (H_FAST = 1, CODEC_BYTES) has one more
 * array after the data slots: a *number cell* (Float64, 8-aligned) for each
 * slot of its lock-free buffer, `capacity` cells in all (fast-slots.ts "Number
 * cells"). Its block is `channelByteLength(slots, slotBytes, capacity)` bytes:
 *
 * | bytes from the block's start        | what                                              |
 * |-------------------------------------|---------------------------------------------------|
 * | 0 .. metaOffset()                   | the header (HEADER_WORDS Int32 words, above)      |
 * | metaOffset() .. + slots × 4         | meta words (locked ring) / stamps (fast buffer)   |
 * | dataOffset(slots) .. + slots × slotBytes | data slots                                   |
 * | cellsOffset(slots, slotBytes) .. + cells × 8 | number cells (fast byte channels only)   |
 */

export const H_LOCK = 0
export const H_GEN = 1
export const H_CAPACITY = 2
export const H_SLOTS = 3
export const H_CODEC = 4
export const H_SLOT_BYTES = 5
export const H_HEAD_IDX = 6
export const H_HEAD_SEQ = 7
export const H_COUNT = 8
export const H_LIVE = 9
export const H_PEAK = 10
export const H_SEND_OPEN = 11
export const H_RECV_OPEN = 12
export const H_SEND_WAITING = 13
export const H_RECV_WAITING = 14
export const H_HANDOFFS = 15
export const H_SEQ_SEND = 16
export const H_SEQ_RECV = 17
export const H_BYTES_BUDGET = 18
export const H_BYTES_USED = 19
export const H_NEXT = 20
export const H_PREV = 21
export const H_BLOCK = 22
export const H_ARMED = 23
export const ARMED_SEND = 1
export const ARMED_RECV = 2
export const H_OV_FIRST = 24
export const H_OV_LAST = 25
export const H_OV_COUNT = 26
/** Select registrations (ring.ts "Select"): receive cases in the low field, send cases in the high one. */
export const H_SELECTS = 27
export const SELECT_RECV_ONE = 1
export const SELECT_SEND_ONE = 1 << 15
export const SELECT_FIELD_MASK = (1 << 15) - 1
/** Int32 index of the Float64 maxBufferSize (Float64 index H_MAXBUF / 2). */
export const H_MAXBUF = 28
/** 1 if the channel's buffer is lock-free (fast-slots.ts); 0 = the locked ring. */
export const H_FAST = 30
/** H_FAST of a size-0 channel with the lock-free slot (zero-slot.ts): the slot's head and tail are H_FHEAD and H_FTAIL. */
export const FAST_ZERO_SLOT = 2
/** Fast channels: the lock-free buffer's head and tail positions, 128 bytes apart (fast-slots.ts). */
export const H_FHEAD = 32
/** Fast channels: the receivers' copy of SLOW, on its own line (fast-slots.ts). */
export const H_FSLOW = 48
export const H_FTAIL = 64
export const H_OWNERS = 96

/** Int32 words of the size-0 lock-free slot: one 64-byte cache line (zero-slot.ts). */
export const ZERO_SLOT_WORDS = 16

/**
 * The header word (relative to the block) where the size-0 lock-free slot's
 * line starts: the first word after H_FTAIL at a 64-byte boundary of the
 * shared buffer (blocks are only 8-aligned). It lies in H_FTAIL's padding
 * (words 65..95) whatever the block's alignment, and shares no line with
 * H_FTAIL nor with the owner table.
 */
export function zeroSlotWord(block: number): number {
  let k = H_FTAIL + 1
  while ((block + 4 * k) % 64 !== 0) k++
  return k
}

/** Owner-table entry fields (Int32 offsets inside one entry). */
export const O_THREAD = 0 // threadId + 1; 0 = free entry
export const O_SEND_HANDLES = 1
export const O_RECV_HANDLES = 2
export const O_SEND_WAITING = 3
export const O_RECV_WAITING = 4
/** This thread's select watchers, packed as H_SELECTS is (SELECT_RECV_ONE / SELECT_SEND_ONE). */
export const O_SELECTS = 5
export const OWNER_FIELDS = 6
/**
 * Threads tracked per channel at once (the main thread and 63 workers: more
 * than any pool on the machines we target; 1.6 KiB per channel header). A
 * thread beyond them still works, but its handles cannot be closed for it if
 * it dies, and its waits keep the event loop alive (waiting.ts) as if remote.
 */
export const OWNER_ENTRIES = 64

export const HEADER_WORDS = H_OWNERS + OWNER_ENTRIES * OWNER_FIELDS

/** Ring slots of a size-0 channel: at most this many senders have published an offer at once. */
export const RENDEZVOUS_SLOTS = 16
/** Extra slots of a buffered channel, for the offers of senders waiting for room (ring.ts). */
export const OVERFLOW_SLOTS = 16
/** H_CAPACITY of an unbounded channel (maxBufferSize Infinity, or 2^31 - 1 and more): larger than any count of values. */
export const CAPACITY_INFINITE = 0x7fffffff
/**
 * The largest channel whose whole buffer is a ring allocated up front
 * (capacity + OVERFLOW_SLOTS slots). A larger one, or an unbounded one, keeps
 * a ring of OVERFLOW_RING_SLOTS and lets the rest wait in overflow chunks, so
 * its memory follows its backlog (overflow.ts).
 */
export const MAX_RING_CAPACITY = 1 << 22
/** Ring slots of a channel that uses overflow chunks. */
export const OVERFLOW_RING_SLOTS = 1024

/** Meta word of a ring slot: the entry's kind in the low bits, flags above. */
export const ENTRY_VALUE = 1 // a buffered value (capacity > 0), or a size-0 value promised to a waiting receiver
export const ENTRY_OFFER = 2 // size 0: a waiting sender's value, withdrawable until taken
export const ENTRY_TOMBSTONE = 3 // size 0: an offer its sender withdrew; receivers skip it
export const ENTRY_KIND_MASK = 0xf
export const ENTRY_HAS_ENDPOINTS = 0x10 // the encoded value carries channel endpoints (close them if dropped)
/**
 * Fast channels: the offer's sender is registered as waiting (SEND_WAITING and
 * its owner entry); whoever moves the offer into the buffer or takes it
 * unregisters the sender for it (ring.ts "Fast channels"). The sender's
 * threadId + 1 is in the bits from ENTRY_OWNER_SHIFT up.
 */
export const ENTRY_WAITER = 0x20
export const ENTRY_OWNER_SHIFT = 8

/** Codec kinds stored in H_CODEC. */
export const CODEC_INT32 = 1
export const CODEC_UINT32 = 2
export const CODEC_FLOAT64 = 3
export const CODEC_BYTES = 4 // 'structured' and user codecs: variable-size bytes

/** Byte-slot fields (Int32 words at the start of a byte slot). */
export const B_LENGTH = 0
export const B_OUT_OF_LINE = 1
export const B_INLINE_START = 8 // bytes
/** Bytes per byte slot: values up to 56 bytes travel inline. */
export const BYTE_SLOT_BYTES = 64

export function slotBytesFor(codec: number): number {
  switch (codec) {
    case CODEC_INT32:
    case CODEC_UINT32:
      return 4
    case CODEC_FLOAT64:
      return 8
    default:
      return BYTE_SLOT_BYTES
  }
}

/** Byte offset, from the channel's base, of the meta ring. */
export function metaOffset(): number {
  return HEADER_WORDS * 4
}

/** Byte offset, from the channel's base, of the data ring (8-aligned). */
export function dataOffset(slots: number): number {
  return align8(metaOffset() + slots * 4)
}

/** Byte offset, from the channel's base, of the number cells (fast byte channels; 8-aligned: data slots are 4, 8 or 64 bytes from an 8-aligned start). */
export function cellsOffset(slots: number, slotBytes: number): number {
  return align8(dataOffset(slots) + slots * slotBytes)
}

/** The number cells a channel has: one per lock-free buffer slot on a fast channel of a byte codec, else none. */
export function cellsFor(fast: number, codec: number, capacity: number): number {
  return fast === 1 && codec === CODEC_BYTES ? capacity : 0
}

/** The block size one channel needs (`cells`: cellsFor); used by the creator and by nobody else (the block records itself). */
export function channelByteLength(slots: number, slotBytes: number, cells: number): number {
  return cells === 0 ? dataOffset(slots) + slots * slotBytes : cellsOffset(slots, slotBytes) + cells * 8
}

export function align8(n: number): number {
  return (n + 7) & ~7
}
