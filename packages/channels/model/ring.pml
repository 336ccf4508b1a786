/*
 * ring.pml: the wait/notify protocol of gotrio's shared channels
 * (packages/channels/src/shared/{lock,ring,waiting,sync,endpoints}.ts) as a
 * Promela model for spin. See README.md next to this file for the mapping of
 * every statement to the TypeScript it models, and for what is abstracted.
 *
 * Configuration (-D on the spin command line; run-spin.sh sets them):
 *   CAP      maxBufferSize (0 = rendezvous)                         default 1
 *   OVF      extra ring slots: OVERFLOW_SLOTS (cap > 0) or
 *            RENDEZVOUS_SLOTS (cap 0); 16 in the code, small here  default 1
 *   NP, NC   producers (send handles), consumers (receive handles)  default 2, 2
 *   NV       values each producer sends                            default 2
 *   SYNCP    bit mask: producer i uses sendSync (sync.ts) instead
 *            of await send() (endpoints.ts + waiting.ts)           default 0
 *   SPINP    bit mask: producer i (an async one) sends with the
 *            unregistered offer: its entry goes into the ring without
 *            registering, it spins on HEAD_SEQ outside the lock, and only
 *            if that does not show the entry taken (or inside the buffer)
 *            does it register under the lock (ring.ts "The unregistered
 *            offer"; send-channel.ts send, spinFirst)             default 0
 *   SPIN_UNARMED  mutation: an unregistered offer registers in offerLocked
 *            without reading (arming) the futex word: must fail
 *   ZP       bit mask (CAP = 0): producer i (an async one) sends through the
 *            size-0 lock-free slot first (zero-slot.ts; ring.ts sendZero):
 *            claims it (tail CAS), publishes (stamp store), reads the
 *            receivers' count and arm, spins for the take (any number of
 *            reads), and withdraws (head CAS) when it gives up or sees no
 *            receive handle open; a withdrawn value goes through the lock.
 *            Every consumer then takes from the slot first, without the
 *            lock and under it (each shared access its own step). Implies
 *            the slot's SLOW (Z3), recomputed at every unlock.   default 0
 *   ZNOGIVEUP  the slot's sender spins until its value is taken (or no
 *            receive handle is open): its spin never runs out, so a lost
 *            wake-up of a receiver is a deadlock instead of a delay until the
 *            sender withdraws and sends through the lock (which bumps). The
 *            protocol must not rely on the spin running out.
 *   ZMUT_NO_ARM_RECHECK  mutation: a receiver that registers does not look
 *            at the slot after arming: must fail (a receiver parked forever)
 *   ZMUT_NO_WAITER_READ  mutation: the slot's sender does not read the
 *            receivers' count after publishing: must fail
 *   ZMUT_TAKE_PROMISED  mutation: a registered receiver takes the slot even
 *            while values are promised (Z4): must fail
 *   NCANCEL  cancellations (withdraw, then retry) per process      default 1
 *   CANCELP, CANCELC  bit masks: producers / consumers that may be
 *            cancelled (the others never are)                      default 3, 3
 *   RCLOSE   bit mask: consumer j may close its receive handle
 *            early (between operations), breaking senders          default 0
 *   SIMPLE_LOCK  the channel lock as one atomic test-and-set (no futex)
 *   UNGATED  bumpSend/bumpRecv always bump (ring.ts before 4caa4ae, which
 *            made them skip the bump when nobody of that side is registered)
 *   UNARMED  bumps ignore H_ARMED: a bump whenever someone of that side is
 *            registered, as before the armed bits (ring.ts "Wake-ups")
 *   FIX1, FIX2  the two pass-the-baton fixes proposed in README.md
 *   FIXED    both
 *
 * Checked: assertions (exactly-once, per-producer FIFO, END only when every
 * value was received, invariants R1-R4), and invalid end states: a state
 * where no process can move but some process is not at its end (a waiter
 * parked forever) is an error.
 */

#ifdef FIXED
#define FIX1
#define FIX2
#endif
#ifndef CAP
#define CAP 1
#endif
#ifndef OVF
#define OVF 1
#endif
#ifndef NP
#define NP 2
#endif
#ifndef NC
#define NC 2
#endif
#ifndef NV
#define NV 2
#endif
#ifndef SYNCP
#define SYNCP 0
#endif
#ifndef SPINP
#define SPINP 0
#endif
#ifndef NCANCEL
#define NCANCEL 1
#endif
#ifndef CANCELP
#define CANCELP 3
#endif
#ifndef CANCELC
#define CANCELC 3
#endif
#ifndef RCLOSE
#define RCLOSE 0
#endif
#ifndef ZP
#define ZP 0
#endif

#define SLOTS (CAP + OVF)
#define NPROC (1 + NP + NC)

/* ring.ts result codes */
#define DONE 0
#define OFFERED 1
#define WAIT 2
#define BROKEN 3
#define WB 4          /* WOULD_BLOCK */
#define END 5
#define HANDED 6

/* layout.ts ENTRY_* (E_NONE: a slot never written) */
#define E_NONE 0
#define E_VALUE 1
#define E_OFFER 2
#define E_TOMB 3

/* futex addresses a process can be parked on */
#define A_NONE 0
#define A_LOCK 1      /* H_LOCK */
#define A_SEQ_SEND 2  /* H_SEQ_SEND */
#define A_SEQ_RECV 3  /* H_SEQ_RECV */

/* ---- the channel header (layout.ts) ---- */
byte lockw = 0;                 /* H_LOCK: 0 free, 1 held, 2 held + sleeper */
byte headIdx = 0;               /* H_HEAD_IDX */
byte headSeq = 0;               /* H_HEAD_SEQ */
byte count = 0;                 /* H_COUNT */
byte live = 0;                  /* H_LIVE */
byte sendOpen = NP;             /* H_SEND_OPEN */
byte recvOpen = NC;             /* H_RECV_OPEN */
byte sendWaiting = 0;           /* H_SEND_WAITING */
byte recvWaiting = 0;           /* H_RECV_WAITING */
byte handoffs = 0;              /* H_HANDOFFS */
byte seqSend = 0;               /* H_SEQ_SEND (futex word) */
byte seqRecv = 0;               /* H_SEQ_RECV (futex word) */
bit armS = 0;                   /* H_ARMED & ARMED_SEND: a sender read seqSend since its last bump */
bit armR = 0;                   /* H_ARMED & ARMED_RECV */
byte meta[SLOTS];               /* meta ring: ENTRY_* kind */
byte val[SLOTS];                /* data ring: producer * 16 + instance * 8 + k */

/* ---- the size-0 lock-free slot (zero-slot.ts; ZP) ---- */
byte ztail = 0;                 /* H_FTAIL: position (even) | SLOW (bit 0) */
byte zhead = 0;                 /* H_FHEAD: position (even); HOLD is never set here (no select) */
byte zstamp = 0;                /* the slot's stamp: pos free, pos + 1 published, pos + 2 freed */
byte zval = 0;                  /* the slot's value */

/* ---- the kernel's futex wait queues ---- */
byte parkedOn[NPROC];           /* A_* the process sleeps on in Atomics.wait(Async) */

/* ---- ghost state for the properties ---- */
byte last[NP];                  /* last k taken from producer p (takes are under the lock) */
byte withdrawn[NP];             /* the value (with its instance bit) producer p last withdrew, 0 none */

#define LOCALS \
  byte r, seen, ticket, slot, old, got, ho, rw, k, k2, v, cancels, zw, zs; \
  short ahead; \
  bit registered, offered, promised, nS, nR, ns, nr, withdraw, nowait, inst, spinf, zt

/* ======================= futex primitives ======================= */

/* Atomics.wait(i32, addr, expected): atomically, block only if *addr == expected. */
inline futexWait(addr, word, expected) {
  atomic {
    if
    :: word == expected -> parkedOn[_pid] = addr; parkedOn[_pid] == A_NONE
    :: else -> skip
    fi
  }
}

/*
 * The registration half of Atomics.wait(i32, addr, seen) / waitAsync for a
 * channel waiter: atomically, join addr's queue only if *addr == seen. The
 * caller then waits for parkedOn[_pid] == A_NONE (a notify), or is cancelled.
 */
inline park(addr, word) {
  atomic {
    if
    :: word == seen -> parkedOn[_pid] = addr;
       printf("MSC: pid %d parks on %d (futex word %d == seen)\n", _pid, addr, word)
    :: else -> skip
    fi
  }
}

/* Atomics.notify(i32, addr): wake every process blocked on addr. */
inline notifyAll(addr) {
  d_step {
    k2 = 0;
    do
    :: k2 < NPROC -> if :: parkedOn[k2] == addr -> parkedOn[k2] = A_NONE; printf("MSC: notify wakes pid %d\n", k2) :: else -> skip fi; k2++
    :: else -> break
    od;
    k2 = 0
  }
}

/* Atomics.notify(i32, addr, 1): wake one (here: the lowest pid). */
inline notifyOne(addr) {
  d_step {
    k2 = 0;
    do
    :: k2 < NPROC && parkedOn[k2] == addr -> parkedOn[k2] = A_NONE; break
    :: k2 < NPROC && parkedOn[k2] != addr -> k2++
    :: else -> break
    od;
    k2 = 0
  }
}

/* ======================= lock.ts ======================= */

inline lockRing() {
#ifdef SIMPLE_LOCK
  atomic { lockw == 0 -> lockw = 1 }
#else
  if
  :: atomic { lockw == 0 -> lockw = 1 }              /* lock: CAS 0 -> 1 */
  :: atomic { lockw != 0 -> skip };                   /* CAS failed: lockSlow */
     if
     :: atomic { lockw == 0 -> lockw = 1 }            /* one of the SPINS load+CAS succeeds */
     :: true ->                                       /* spins exhausted */
        do
        :: atomic { old = lockw; lockw = 2 };         /* Atomics.exchange(.., 2) */
           if
           :: old == 0 -> break
           :: else -> futexWait(A_LOCK, lockw, 2)     /* Atomics.wait(.., 2) */
           fi
        od
     fi
  fi;
  old = 0
#endif
}

inline unlockLock() {
#ifdef SIMPLE_LOCK
  lockw = 0
#else
  atomic { old = lockw; lockw = lockw - 1 };          /* Atomics.sub(.., 1) */
  if
  :: old != 1 -> lockw = 0; notifyOne(A_LOCK)         /* store 0; notify(.., 1) */
  :: else -> skip
  fi;
  old = 0
#endif
}

/* ======================= ring.ts ======================= */

/*
 * A critical section: Ring.lock(); body; Ring.unlock(). With SIMPLE_LOCK the
 * acquire, the body, the notify decision and the release are one atomic step
 * (sound: every word the body touches but the futex words is read or written
 * only under the lock, and the futex words only grow, so a parking waiter that
 * reads one mid-section behaves as if it read it before or after); the
 * notifies stay separate steps after the release, as in Ring.unlock. Without
 * SIMPLE_LOCK, lock.ts's futex mutex is modelled step by step.
 */
#ifdef SIMPLE_LOCK
#define CS_BEGIN d_step { lockw == 0 -> lockw = 1;
#define CS_END   invariants(); gate(); lockw = 0 }; notifyAfter()
#else
#define CS_BEGIN lockRing(); d_step {
#define CS_END   invariants(); gate() }; ringUnlock()
#endif

/* Ring.unlock, first half (still under the lock): the slot's SLOW (Z3), then the notify decision. */
inline gate() {
  if
  :: ZP != 0 && (count > 0 || recvOpen == 0) -> ztail = ztail | 1
  :: ZP != 0 && !(count > 0 || recvOpen == 0) -> ztail = ztail & 254
  :: else -> skip
  fi;
  ns = nS && sendWaiting > 0;
  nr = nR && recvWaiting > 0;
  nS = 0; nR = 0
}

/* Ring.unlock, second half: unlock, then notify outside the lock. */
inline ringUnlock() {
  unlockLock();
  notifyAfter()
}

inline notifyAfter() {
  if :: ns -> notifyAll(A_SEQ_SEND); ns = 0 :: else -> skip fi;
  if :: nr -> notifyAll(A_SEQ_RECV); nr = 0 :: else -> skip fi
}

/*
 * Ring.readSeq(side): a waiter reads the futex word it will sleep on, under
 * the lock, and arms the side (H_ARMED) so that the next change bumps it.
 */
inline readSeqS() {
  seen = seqSend;
  armS = 1
}

inline readSeqR() {
  seen = seqRecv;
  armR = 1
}

/* Ring.bumpSend / bumpRecv: only with a registered waiter that read the word since the last bump. */
inline bumpSend() {
#ifdef UNGATED
  seqSend++; nS = 1
#elif defined(UNARMED)
  if :: sendWaiting == 0 -> skip :: else -> seqSend++; nS = 1 fi
#else
  if :: sendWaiting == 0 || armS == 0 -> skip :: else -> armS = 0; seqSend++; nS = 1 fi
#endif
}

inline bumpRecv() {
#ifdef UNGATED
  seqRecv++; nR = 1
#elif defined(UNARMED)
  if :: recvWaiting == 0 -> skip :: else -> seqRecv++; nR = 1 fi
#else
  if :: recvWaiting == 0 || armR == 0 -> skip :: else -> armR = 0; seqRecv++; nR = 1 fi
#endif
}

inline regS()   { sendWaiting++ }
inline unregS() { assert(sendWaiting > 0); sendWaiting-- }
inline regR()   { recvWaiting++ }
inline unregR() { assert(recvWaiting > 0); recvWaiting-- }

/* R1, R2, R4 (R3: asserted where promised values are taken) */
inline invariants() {
  assert(live <= count && count <= SLOTS);
  assert(ZP == 0 || (ztail & 254) == zhead || (ztail & 254) == zhead + 2);   /* Z1 */
  assert(handoffs <= recvWaiting && (CAP == 0 || handoffs == 0));
  assert(recvOpen > 0 || count == 0)
}

inline push(kind, value) {
  slot = (headIdx + count) % SLOTS;
  assert(meta[slot] == E_NONE || recvOpen == 0);
  meta[slot] = kind; val[slot] = value;
  count++;
  live++;
  bumpRecv();
  slot = 0
}

inline advanceHead() {
  headIdx = (headIdx + 1) % SLOTS;
  headSeq++;
  count--;
  bumpSend()
}

inline takeHead() {
  assert(meta[headIdx] == E_VALUE || meta[headIdx] == E_OFFER);
  assert(ho == 0 || meta[headIdx] == E_VALUE);              /* R3 */
  got = val[headIdx];
  printf("MSC:   takes value %d (producer %d, #%d)\n", got, got / 16, got % 8);
  /* a withdrawn send delivered nothing */
  assert(got != withdrawn[got / 16]);
  /* every value received exactly once, in per-producer order */
  assert((got % 8) == last[got / 16] + 1);
  last[got / 16] = got % 8;
  meta[headIdx] = E_NONE; val[headIdx] = 0;   /* canonical: see README (stale meta words) */
  live--;
  advanceHead();
  got = 0
}

inline skipTombstones() {
  do
  :: count > 0 && meta[headIdx] == E_TOMB -> meta[headIdx] = E_NONE; advanceHead()
  :: else -> break
  od
}

/*
 * A take from the slot (zero-slot.ts zTakeInGate), each shared access its own
 * step: load the head, load the stamp, CAS the head, store the stamp. The
 * value is read, and the ghost checks of takeHead made, in the CAS's step:
 * the CAS is the take's linearization point, and nothing writes the value
 * between it and the stamp store (a claimer needs that store first).
 * zt = 1 if it took a value.
 */
inline zTake() {
  zt = 0;
  zw = zhead;
  zs = zstamp;
  if
  :: zs == zw + 1 ->
     atomic {
       if
       :: zhead == zw ->
          zhead = zw + 2; zt = 1;
          got = zval;
          printf("MSC:   takes value %d from the slot (producer %d, #%d)\n", got, got / 16, got % 8);
          assert(got != withdrawn[got / 16]);
          assert((got % 8) == last[got / 16] + 1);
          last[got / 16] = got % 8;
          got = 0
       :: else -> skip
       fi
     };
     if :: zt -> zstamp = zw + 2 :: else -> skip fi
  :: else -> skip
  fi;
  zw = 0; zs = 0
}

/* Ring.sendLocked(tid, v, .., registered, nowait = false) */
inline sendLocked() {
  if
  :: recvOpen == 0 ->
     if :: registered -> unregS() :: else -> skip fi;
     r = BROKEN
  :: else ->
     if :: count == SLOTS -> skipTombstones() :: else -> skip fi;   /* hasRoom: a full ring skips its head's tombstones */
     if
     :: count < SLOTS ->                                      /* hasRoom (no out-of-line bytes) */
        if
        :: CAP > 0 ->
           if
           :: live < CAP ->
              push(E_VALUE, v);
              if :: registered -> unregS() :: else -> skip fi;
              r = DONE
           :: else ->
              ticket = headSeq + count;
              push(E_OFFER, v);
              if :: !registered && !spinf -> regS() :: else -> skip fi;
              r = OFFERED
           fi
        :: else ->
           if
           :: recvWaiting > handoffs && live == handoffs ->   /* direct handoff */
              ticket = headSeq + count;
              push(E_VALUE, v);
              handoffs++;
              if :: !registered && !spinf -> regS() :: else -> skip fi;
              r = HANDED
           :: else ->
              ticket = headSeq + count;
              push(E_OFFER, v);
              if :: !registered && !spinf -> regS() :: else -> skip fi;
              r = OFFERED
           fi
        fi
     :: else ->
        if :: !registered -> regS() :: else -> skip fi;
        readSeqS();
        r = WAIT
     fi
  fi
}

/* Ring.liveAhead(ahead): live entries among the first `ahead` from the head, at most CAP */
inline liveAhead() {
  if
  :: ahead < CAP -> rw = ahead
  :: else ->
     rw = 0; k2 = 0;
     do
     :: k2 < ahead && rw < CAP ->
        if :: meta[(headIdx + k2) % SLOTS] != E_TOMB -> rw++ :: else -> skip fi;
        k2++
     :: else -> break
     od;
     k2 = 0
  fi
}

/* Ring.offerLocked(tid, ticket, withdraw, registered) */
inline offerLocked() {
  ahead = ticket - headSeq;
  if :: ahead >= 0 && CAP > 0 -> liveAhead() :: else -> rw = CAP fi;
  if
  :: ahead < 0 || (CAP > 0 && rw < CAP) -> rw = 0; if :: registered -> unregS() :: else -> skip fi; r = DONE
  :: else ->
     if
     :: recvOpen == 0 -> if :: registered -> unregS() :: else -> skip fi; r = BROKEN
     :: else ->
        if
        :: !withdraw ->
#ifdef SPIN_UNARMED
           /* mutation (run-spin.sh --spin-unarmed): register without reading the word */
           if :: !registered -> regS() :: else -> readSeqS() fi;
#else
           if :: !registered -> regS() :: else -> skip fi;   /* an unregistered offer registers here */
           readSeqS();
#endif
           r = WAIT
        :: else ->
           assert(ahead < count);
           slot = (headIdx + ahead) % SLOTS;
           assert(meta[slot] == E_OFFER);
           meta[slot] = E_TOMB; val[slot] = 0;
           live--;
           unregS();
           slot = 0;
           r = WB
        fi
     fi
  fi;
  ahead = 0; rw = 0
}

/* Ring.receiveLocked(tid, registered, nowait) */
inline receiveLocked() {
  skipTombstones();
  ho = handoffs;
  if
  :: live > 0 && (registered || ho == 0) ->
     takeHead();
     if
     :: registered ->
        unregR();
        if :: ho > 0 -> handoffs = ho - 1 :: else -> skip fi
     :: else -> skip
     fi;
#ifdef FIX1
     if :: live > 0 || sendOpen == 0 -> bumpRecv() :: else -> skip fi;   /* FIX 1 */
#else
     if :: live > 0 -> bumpRecv() :: else -> skip fi;                    /* pass the baton */
#endif
     r = DONE
  :: else ->
     if
     :: live == 0 && sendOpen == 0 ->
        if :: registered -> unregR() :: else -> skip fi;
        r = END
     :: else ->
        if
        :: nowait -> r = WB
        :: else ->
           if :: !registered -> regR() :: else -> skip fi;
           readSeqR();
           r = WAIT
        fi
     fi
  fi;
  ho = 0
}

/*
 * Ring.receiveLocked with the size-0 slot (ZP), as a critical section split
 * where it touches what lock-free operations touch: the slot's take, and the
 * register-arm-look of a receiver that will wait. `retry`: the dispatcher's
 * attempt (waiting.ts), which arms and reads the word first and waits with
 * that value.
 */
inline zReceiveCS(retry) {
  atomic { lockw == 0 -> lockw = 1 };
  if :: retry -> d_step { readSeqR() } :: else -> skip fi;
  d_step { skipTombstones(); ho = handoffs };
#ifdef ZMUT_TAKE_PROMISED
  zTake();
#else
  if :: !registered || ho == 0 -> zTake() :: else -> zt = 0 fi;   /* Z4 */
#endif
  if
  :: zt ->
     d_step {
       zt = 0;
       if :: registered -> unregR() :: else -> skip fi;
       if :: live > 0 || sendOpen == 0 -> bumpRecv() :: else -> skip fi;
       r = DONE
     }
  :: else ->
     d_step {
       if
       :: live > 0 && (registered || ho == 0) ->
          takeHead();
          if
          :: registered -> unregR(); if :: ho > 0 -> handoffs = ho - 1 :: else -> skip fi
          :: else -> skip
          fi;
          if :: live > 0 || sendOpen == 0 -> bumpRecv() :: else -> skip fi;
          r = DONE
       :: else ->
          if
          :: live == 0 && sendOpen == 0 && zstamp != zhead + 1 ->
             if :: registered -> unregR() :: else -> skip fi;
             r = END
          :: else ->
             r = WAIT;
             if :: !registered -> regR(); readSeqR() :: else -> skip fi
          fi
       fi
     };
     if
     :: r == WAIT && !retry ->
        /* readSeq's look after the arm (the slot's Dekker pair): a value there means a stale word */
#ifndef ZMUT_NO_ARM_RECHECK
        zw = zhead;
        zs = zstamp;
        if :: zs == zw + 1 -> seen = seen - 1 :: else -> skip fi;
        zw = 0; zs = 0
#else
        skip
#endif
     :: else -> skip
     fi
  fi;
  ho = 0;
  d_step { invariants(); gate(); lockw = 0 };
  notifyAfter()
}

/* Ring.withdrawReceiveLocked(tid) */
inline withdrawReceiveLocked() {
  rw = recvWaiting; ho = handoffs;
  if
  :: rw - 1 >= ho ->
     unregR();
#ifdef FIX2
     if :: live > 0 || (ZP != 0 && zstamp == zhead + 1) -> bumpRecv() :: else -> skip fi;   /* FIX 2 */
#endif
     r = WB
  :: else ->
     registered = 1; nowait = 1;
     receiveLocked();
     nowait = 0
  fi;
  rw = 0; ho = 0
}

/* Ring.closeLocked(SIDE_SEND, 1) */
inline closeSendLocked() {
  sendOpen--;
  if :: sendOpen == 0 -> bumpRecv() :: else -> skip fi
}

/* Ring.closeLocked(SIDE_RECV, 1) */
inline closeRecvLocked() {
  recvOpen--;
  if
  :: recvOpen == 0 ->
     k2 = 0;
     do
     :: k2 < SLOTS -> val[k2] = 0; k2++   /* dropEntry (meta words keep their kinds); HEAD_SEQ stays */
     :: else -> break
     od;
     k2 = 0;
     headIdx = 0; count = 0; live = 0; handoffs = 0;
     bumpSend()
  :: else -> skip
  fi
}

/* ======================= the threads ======================= */

/*
 * A producer: sends k = 1..NV, then closes its send handle. sync = 0 models
 * endpoints.ts send() + waiting.ts SendOp/LocalSide.dispatch (Atomics.waitAsync);
 * sync = 1 models sync.ts blockingSend (Atomics.wait). A cancelled send that
 * withdrew (delivered nothing) sends the same value again.
 */
proctype Producer(byte p; bit sync) {
  LOCALS;
  if :: ((CANCELP >> p) & 1) == 0 -> cancels = NCANCEL :: else -> skip fi;
  k = 1;
sendNext:
  if
  :: k > NV -> goto closeSend
  :: else -> skip
  fi;
  v = p * 16 + inst * 8 + k;
  registered = 0; offered = 0; promised = 0; seen = 0; ticket = 0;
  spinf = ((SPINP >> p) & 1) && !sync;
  if
  :: ((ZP >> p) & 1) && !sync ->
     /* ring.ts sendZero: claim the slot (tail, stamp, CAS), write, publish */
     zw = ztail;
     zs = zstamp;
     if
     :: (zw & 1) == 0 && zs == zw ->
        atomic { if :: ztail == zw -> ztail = zw + 2; zt = 1 :: else -> zt = 0 fi }
     :: else -> zt = 0
     fi;
     if
     :: zt ->
        zval = v;
        zstamp = zw + 1;
        printf("MSC: P%d send(%d): in the slot\n", p, v);
#ifndef ZMUT_NO_WAITER_READ
        /* the first Dekker pair: the store above, then the receivers' count and arm */
        rw = recvWaiting;
        if
        :: rw > 0 && armR -> CS_BEGIN bumpRecv(); CS_END
        :: else -> skip
        fi;
        rw = 0;
#endif
        /* the spin: a read that sees the stamp change (taken), or it gives up (ran out, or no receiver open) */
        if
        :: zstamp != zw + 1 -> printf("MSC: P%d slot: taken\n", p); zt = 0; zw = 0; zs = 0; k++; goto sendNext
#ifdef ZNOGIVEUP
        :: recvOpen == 0 -> skip
#else
        :: true -> skip
#endif
        fi;
        /* zWithdrawOwn: the head's CAS from its position, racing the takers' */
        atomic { if :: zhead == zw -> zhead = zw + 2; zt = 1 :: else -> zt = 0 fi };
        if
        :: zt ->
           zstamp = zw + 2;
           zt = 0; zw = 0; zs = 0;
           printf("MSC: P%d slot: withdrawn\n", p);
           if
           :: recvOpen == 0 -> goto closeSend                     /* Z_BROKEN */
           :: else -> spinf = 0                                     /* through the lock, no second spin */
           fi
        :: else -> printf("MSC: P%d slot: taken (withdrawal lost)\n", p); zw = 0; zs = 0; k++; goto sendNext
        fi
     :: else -> zw = 0; zs = 0                                      /* Z_NOT_SENT */
     fi
  :: else -> skip
  fi;
  /* first attempt: send() / blockingSend's first loop turn */
  CS_BEGIN
    sendLocked();
    if :: (r == OFFERED || r == HANDED) && !spinf -> readSeqS() :: else -> skip fi;
    printf("MSC: P%d send(%d): %d\n", p, v, r);
  CS_END;
  if
  :: r == DONE -> k++; goto sendNext
  :: r == BROKEN -> goto closeSend
  :: r == HANDED && sync -> goto syncHanded
  :: else -> skip
  fi;
  if
  :: spinf && (r == OFFERED || r == HANDED) ->
     /* The unregistered offer: Ring.spinOffer reads HEAD_SEQ (and RECV_OPEN)
      * without the lock, any number of times; then either it saw the entry
      * taken / inside the buffer (the send is complete, no lock), or it gives
      * up and decides under the lock (offerLocked, registered = 0). */
     offered = 1; promised = (r == HANDED);
     if
     :: (ticket - headSeq < 0 || (CAP > 0 && ticket - headSeq < CAP)) ->   /* one racy read of HEAD_SEQ */
        printf("MSC: P%d spin: taken\n", p);
        spinf = 0; k++; goto sendNext
     :: true -> skip                                        /* ran out, or saw RECV_OPEN = 0 */
     fi;
     CS_BEGIN
       withdraw = 0; offerLocked();
       printf("MSC: P%d spin ran out, offerLocked: %d\n", p, r);
     CS_END;
     spinf = 0;
     if
     :: r == WAIT -> skip                                   /* now registered and armed */
     :: r == DONE -> k++; goto sendNext
     :: r == BROKEN && promised -> k++; goto sendNext
     :: r == BROKEN && !promised -> goto closeSend
     fi
  :: else -> spinf = 0
  fi;
  registered = 1;
  if :: r == OFFERED || r == HANDED -> offered = 1; promised = (r == HANDED) :: else -> skip fi;
  /* parked: dispatcher's waitAsync / waitSlice's Atomics.wait, or cancelled */
  do
  :: park(A_SEQ_SEND, seqSend);
     if
     :: parkedOn[_pid] == A_NONE -> skip                  /* woken (or the word had changed) */
     :: atomic { cancels < NCANCEL && !promised -> parkedOn[_pid] = A_NONE; cancels++ }; goto cancelSend
     fi;
     CS_BEGIN
       if
       :: !offered ->
          sendLocked();
          if :: r == OFFERED || r == HANDED -> offered = 1; promised = (r == HANDED) :: else -> skip fi
       :: else ->
          withdraw = 0;
          offerLocked()
       fi;
       readSeqS();
       printf("MSC: P%d retry send(%d): %d\n", p, v, r);
     CS_END;
     if
     :: r == WAIT || r == OFFERED -> skip
     :: r == HANDED && !sync -> skip
     :: r == HANDED && sync -> goto syncHanded
     :: r == DONE -> k++; goto sendNext
     :: r == BROKEN && promised -> k++; goto sendNext      /* delivered; dropped with the buffer */
     :: r == BROKEN && !promised -> goto closeSend
     fi
  od;
cancelSend: skip;
     /* SendOp.abort / blockingSend's checkCancelledSync catch */
     CS_BEGIN
       if
       :: !offered -> unregS(); r = WB                     /* withdrawSendLocked */
       :: else -> withdraw = 1; offerLocked(); withdraw = 0
       fi;
       printf("MSC: P%d cancelled send(%d), withdraw: %d\n", p, v, r);
     CS_END;
     if
     :: r == DONE -> k++; goto sendNext                    /* too late: taken */
     :: r == WB ->                                         /* delivered nothing: send it again */
        withdrawn[p] = v; inst = 1 - inst; goto sendNext
     :: r == BROKEN -> goto closeSend
     fi;
syncHanded: skip;
  /* blockingSend: HANDED -> unregister and return */
  CS_BEGIN unregS(); printf("MSC: P%d sendSync returns (handed)\n", p); CS_END;
  k++;
  goto sendNext;
closeSend: registered = 0; offered = 0; promised = 0; seen = 0; ticket = 0; v = 0; r = 0;
  CS_BEGIN closeSendLocked(); printf("MSC: P%d close send handle, SEND_OPEN=%d\n", p, sendOpen); CS_END
}

/*
 * A consumer: receives until EndOfChannel, then closes its receive handle.
 * receive() + ReceiveOp/dispatch and blockingReceive are the same protocol
 * here. A cancelled receive that withdrew (took nothing) receives again.
 */
proctype Consumer(byte c; bit early) {
  LOCALS;
  if :: ((CANCELC >> c) & 1) == 0 -> cancels = NCANCEL :: else -> skip fi;
recvNext:
  if
  :: early -> goto closeRecv                               /* close() between operations */
  :: true -> skip
  fi;
  registered = 0; seen = 0;
  if
  :: ZP != 0 ->
     zTake();                                              /* the lock-free take (receiveFastTrailing) */
     if :: zt -> zt = 0; goto recvNext :: else -> skip fi;
     nowait = 0; zReceiveCS(0); printf("MSC: C%d receive: %d\n", c, r)
  :: else ->
     CS_BEGIN nowait = 0; receiveLocked(); printf("MSC: C%d receive: %d\n", c, r); CS_END
  fi;
  if
  :: r == DONE -> goto recvNext
  :: r == END -> goto gotEnd
  :: r == WAIT -> skip
  fi;
  registered = 1;
  do
  :: park(A_SEQ_RECV, seqRecv);
     if
     :: parkedOn[_pid] == A_NONE -> skip                  /* woken (or the word had changed) */
     :: atomic { cancels < NCANCEL -> parkedOn[_pid] = A_NONE; cancels++ }; goto cancelRecv
     fi;
     if
     :: ZP != 0 -> zReceiveCS(1); printf("MSC: C%d retry receive: %d\n", c, r)
     :: else -> CS_BEGIN receiveLocked(); readSeqR(); printf("MSC: C%d retry receive: %d\n", c, r); CS_END
     fi;
     if
     :: r == DONE -> goto recvNext
     :: r == END -> goto gotEnd
     :: r == WAIT -> skip
     fi
  od;
cancelRecv: skip;
  /* ReceiveOp.abort / blockingReceive's checkCancelledSync catch */
  CS_BEGIN withdrawReceiveLocked(); printf("MSC: C%d cancelled receive, withdraw: %d\n", c, r); CS_END;
  goto recvNext;                   /* DONE: took a promised value; WB: took nothing */
gotEnd:
  /* EndOfChannel: every sender closed and everything sent was received */
  k2 = 0;
  do
  :: k2 < NP -> assert(last[k2] == NV); k2++
  :: else -> break
  od;
  k2 = 0;
closeRecv: registered = 0; seen = 0; r = 0;
  CS_BEGIN closeRecvLocked(); printf("MSC: C%d close receive handle, RECV_OPEN=%d\n", c, recvOpen); CS_END
}

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < NP -> run Producer(i, (SYNCP >> i) & 1); i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NC -> run Consumer(i, (RCLOSE >> i) & 1); i++
    :: else -> break
    od;
    i = 0
  }
  /* every thread finished (a deadlock leaves this blocked: invalid end state) */
  _nr_pr == 1;
  assert(sendWaiting == 0 && recvWaiting == 0 && handoffs == 0);
  assert(sendOpen == 0 && recvOpen == 0 && count == 0);
  assert(ZP == 0 || ztail == (zhead | 1));                 /* the slot empty, SLOW set (no receiver) */
  if
  :: RCLOSE == 0 ->
     i = 0;
     do
     :: i < NP -> assert(last[i] == NV); i++
     :: else -> break
     od
  :: else -> skip
  fi
}
