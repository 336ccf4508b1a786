/*
 * The lock-free buffer of a fast shared channel (src/shared/fast-slots.ts and
 * the fast-channel paths of ring.ts: trySendFast, tryReceiveFast,
 * sendFastLocked, receiveFastLocked, serviceLocked, drainFastLocked,
 * offerLocked, withdrawReceiveLocked, Ring.unlock's SLOW recompute).
 *
 * Every shared access of the lock-free paths is its own step (JS Atomics are
 * sequentially consistent, which is spin's interleaving semantics); the
 * channel lock is one atomic acquire; code under the lock is also split into
 * steps wherever it touches what lock-free operations touch (the buffer,
 * SLOW, the waiter counts). Positions are `lap + index` as in fast-slots.ts
 * (LAP = twice CAP rounded up to a power of two), without the 2^32 wrap.
 *
 * Checked, in every interleaving:
 *  - every delivered value is received exactly once or dropped by the last
 *    receiver's close; a withdrawn (cancelled) send's value never is;
 *  - FIFO per producer at the take (the linearization point);
 *  - a waiting sender owns the next free slot: no new value enters the buffer
 *    while an offer is queued (assertions at both push paths);
 *  - no waiter parked forever (invalid end states), with cancellation of
 *    waiting senders and receivers and early closes of receive handles.
 *
 *   -DCAP=n  -DNP=n -DNC=n -DNV=n (values per producer) -DOFFQ=n (offer slots)
 *   -DCANCELP=mask -DCANCELC=mask (who may be cancelled while waiting; a
 *   consumer once, after which it receives again)
 *   -DRCLOSE=mask (consumers that may close their handle early)
 *   -DSPINP=mask (producers whose offers are unregistered first, as an async
 *   send's when a receive handle is elsewhere: ring.ts "The unregistered
 *   offer"; it reads HEAD_SEQ without the lock, then registers in offerLocked)
 *   -DNOCLOSE: producers never close and consumers stop once every value is
 *   taken (but LEAVE, default 0), so no close's bump can hide a lost wake-up:
 *   a receiver or sender that sleeps while it could go on is then an invalid
 *   end state. With LEAVE = CAP the consumers leave up to CAP values behind,
 *   which fit in the buffer, so every send must still complete: an offer left
 *   queued while the buffer has room is a sender parked forever.
 *   Mutations the runs must catch: -DNO_RECHECK_RECV (a receiver does not look
 *   again after registering), -DNO_SLOW_RECHECK (a full sender does not look
 *   again after setting SLOW; no longer caught alone since the fourth pair,
 *   whose look for room after arming covers the same race), -DNO_SLOW_READ (a lock-free receiver ignores
 *   SLOW), -DNO_SLOW (lock-free sends ignore SLOW), -DNO_ARM_RECHECK (a
 *   receiver that arms does not look at the buffer again: a lock-free send
 *   that published before the arm skips the bump), -DNO_ROOM_RECHECK (a
 *   sender that arms does not look for room again: a lock-free receive that
 *   freed a slot, saw no offer queued and no sender armed, skips the lock).
 *
 *   Offers of registered senders carry oreg (ENTRY_WAITER): whoever moves or
 *   takes one unregisters its sender and bumps SEQ_SEND (ring.ts
 *   offerCompleted), so SLOW clears without waiting for the sender's thread.
 *
 *   A waiter here arms, reads the word, then looks (RECHECK_ROOM, RETRY).
 *   The dispatcher of a thread's async waiters (waiting.ts) arms and reads
 *   the word first, then attempts its operations: the same order, with the
 *   attempt as the look, so it is the same model.
 */
#ifndef CAP
#define CAP 1
#endif
#ifndef NP
#define NP 2
#endif
#ifndef NC
#define NC 1
#endif
#ifndef NV
#define NV 2
#endif
#ifndef OFFQ
#define OFFQ 2
#endif
#ifndef CANCELP
#define CANCELP 0
#endif
#ifndef CANCELC
#define CANCELC 0
#endif
#ifndef RCLOSE
#define RCLOSE 0
#endif
#ifndef SPINP
#define SPINP 0
#endif

#define NVAL (NP * NV)
#ifndef LAP
#define LAP (2 * CAP)
#endif
#define IDX(pos) ((pos) % LAP)
#define NEXT(pos) (IDX(pos) + 1 < CAP -> (pos) + 1 : (pos) - IDX(pos) + LAP)

/* results */
#define DONE 0
#define OFFERED 1
#define WAIT 2
#define BROKEN 3
#define WOULD_BLOCK 4
#define END 5
#define RETRY 6 /* a stale `seen` (Ring.readSeq): the wait returns at once */
#define V_OK 0
#define V_FULL 1
#define V_SLOW 2

/* the lock-free buffer */
byte stamp[CAP];
byte data[CAP];
byte head;
byte tail;
bool slow;  /* the tail's SLOW bit (lock-free sends' CAS) */
bool slowM; /* H_FSLOW, the copy lock-free receivers read; set before the tail's bit */
/* the channel lock and the locked state */
bit lk;
byte sendWaiting;
byte recvWaiting;
byte seqS;
byte seqR;
bool armS;
bool armR;
byte sendOpen = NP;
byte recvOpen = NC;
/* the queue of offers (the locked ring of a fast channel) */
byte oval[OFFQ];
bool otomb[OFFQ];
bool oreg[OFFQ]; /* ENTRY_WAITER: the offer's sender is registered; its mover or taker unregisters it */
byte oHeadIdx;
byte oHeadSeq;
byte oCount;
byte oLive;
/* bookkeeping */
byte lastTaken[NP];
bool got[NVAL + 1];
bool gone[NVAL + 1]; /* withdrawn: must never be received */
byte delivered;
byte received;
byte dropped;
byte finished;
byte ngone;
byte inbuf; /* values in the lock-free buffer */
#ifndef LEAVE
#define LEAVE 0
#endif

#define LOCK atomic { lk == 0 -> lk = 1 }
/* Ring.unlock: F1, then release (the notify is the seq change itself) */
#define UNLOCK atomic { slow = (oCount > 0 || sendWaiting > 0 || recvOpen == 0); slowM = slow; lk = 0 }
/* setSlow: H_FSLOW first (the Dekker store), then the tail's bit: two steps */
#define SETSLOW slowM = 1; slow = 1

inline bumpRecv() {
  if
  :: recvWaiting > 0 && armR -> armR = 0; seqR++
  :: else -> skip
  fi
}
inline bumpSend() {
  if
  :: sendWaiting > 0 && armS -> armS = 0; seqS++
  :: else -> skip
  fi
}

/* a take's linearization point: FIFO per producer, exactly once */
inline recordTake(v) {
  assert(v >= 1 && v <= NVAL);
  assert(!got[v] && !gone[v]);
  got[v] = 1;
  received++;
  assert((v - 1) % NV >= lastTaken[(v - 1) / NV]);
  lastTaken[(v - 1) / NV] = (v - 1) % NV + 1
}

/* vpush, step by step. isOffer: an offer moved in by serviceLocked. */
inline vpush(v, locked, isOffer, r) {
  do
  :: true ->
    atomic { t = tail; sl = slow }
#ifndef NO_SLOW
    if
    :: !locked && sl -> r = V_SLOW; break
    :: else -> skip
    fi
#endif
    s = stamp[IDX(t)];
    if
    :: s == t ->
      atomic {
        if
#ifdef NO_SLOW
        :: tail == t ->
#else
        :: tail == t && (locked || !slow) ->
#endif
          tail = NEXT(t);
          inbuf++;
          /* a waiting sender owns the next free slot: only the oldest offer enters while offers are queued */
          assert(isOffer || oLive == 0);
          cas = 1
        :: else -> cas = 0
        fi
      }
      if
      :: cas -> atomic { data[IDX(t)] = v; stamp[IDX(t)] = t + 1 }; r = V_OK; break
      :: else -> skip
      fi
    :: s + LAP == t + 1 -> r = V_FULL; break
    :: else -> skip
    fi
  od
}

/* vpop, step by step: ok = 1 with the value recorded */
inline vpop(ok) {
  do
  :: true ->
    h = head;
    s = stamp[IDX(h)];
    if
    :: s == h + 1 ->
      atomic {
        if
        :: head == h -> head = NEXT(h); inbuf--; recordTake(data[IDX(h)]); cas = 1
        :: else -> cas = 0
        fi
      }
      if
      :: cas -> stamp[IDX(h)] = h + LAP; ok = 1; break
      :: else -> skip
      fi
    :: s == h -> ok = 0; break
    :: else -> skip
    fi
  od
}

inline advanceHead() {
  oHeadIdx = (oHeadIdx + 1) % OFFQ;
  oHeadSeq++;
  oCount--;
  bumpSend()
}

/* an offer was moved or taken (ring.ts offerCompleted): a registered sender stops waiting, and is woken */
inline completed() {
  if
  :: oreg[oHeadIdx] -> oreg[oHeadIdx] = 0; sendWaiting--; armS = 0; seqS++
  :: else -> skip
  fi
}

/* Ring.readSeq's re-check for senders (the fourth pair): room in the buffer => the wait returns at once */
#define ROOM (!(IDX(tail) == IDX(head) && tail != head))
#ifndef NO_ROOM_RECHECK
#define RECHECK_ROOM if :: ROOM -> staleS = 1 :: else -> skip fi
#else
#define RECHECK_ROOM skip
#endif

/* serviceLocked: move offers, oldest first, into free slots */
inline service() {
  do
  :: oCount == 0 -> break
  :: else ->
    if
    :: otomb[oHeadIdx] -> otomb[oHeadIdx] = 0; advanceHead()
    :: else ->
      vpush(oval[oHeadIdx], 1, 1, r2);
      if
      :: r2 != V_OK -> break
      :: else -> completed(); oLive--; bumpRecv(); advanceHead()
      fi
    fi
  od
}

proctype Producer(byte p) {
  byte k = 0;
  byte v;
  byte r;
  byte r2;
  byte t;
  byte s;
  bool sl;
  bool cas;
  byte res;
  byte seen;
  byte ticket;
  bool offered;
  bool staleS; /* readSeq saw room after arming: the wait returns at once (the fourth pair) */
  bool registered;
  do
  :: k == NV -> break
  :: else ->
    v = p * NV + k + 1;
    offered = 0;
    registered = 0;
    /* trySendFast */
    vpush(v, 0, 0, r);
    if
    :: r == V_OK ->
      delivered++;
      /* the first and third Dekker pairs: a waiting receiver that armed since the last bump */
      if
      :: recvWaiting > 0 ->
        if
        :: armR -> LOCK; bumpRecv(); UNLOCK
        :: else -> skip
        fi
      :: else -> skip
      fi;
      k++;
      goto nextValue
    :: else -> skip
    fi;
    /* sendFastLocked, then offerLocked / sendFastLocked(registered) until done */
    LOCK;
retry:
    if
    :: offered ->
      /* offerLocked: moves offers into room a lock-free receive left (it may not have locked) */
      service();
      if
      :: oHeadSeq > ticket -> res = DONE /* moved into the buffer, even if dropped since; unregistered by its mover */
      :: oHeadSeq <= ticket && recvOpen == 0 -> res = BROKEN; sendWaiting--
      :: oHeadSeq <= ticket && recvOpen > 0 -> armS = 1; seen = seqS; RECHECK_ROOM; res = WAIT
      fi
    :: else ->
      if
      :: recvOpen == 0 ->
        if
        :: registered -> sendWaiting--
        :: else -> skip
        fi;
        res = BROKEN
      :: else ->
        service();
        res = WAIT;
        if
        :: oCount == 0 ->
          vpush(v, 1, 0, r);
#ifndef NO_SLOW_RECHECK
          if
          :: r != V_OK -> SETSLOW; vpush(v, 1, 0, r)
          :: else -> skip
          fi;
#else
          if
          :: r != V_OK -> SETSLOW
          :: else -> skip
          fi;
#endif
          if
          :: r == V_OK ->
            if
            :: registered -> sendWaiting--
            :: else -> skip
            fi;
            bumpRecv();
            res = DONE
          :: else -> skip
          fi
        :: else -> skip
        fi;
        if
        :: res == WAIT ->
          SETSLOW;
          if
          :: oCount < OFFQ ->
            ticket = oHeadSeq + oCount;
            oval[(oHeadIdx + oCount) % OFFQ] = v;
            otomb[(oHeadIdx + oCount) % OFFQ] = 0;
            oreg[(oHeadIdx + oCount) % OFFQ] = registered || (SPINP & (1 << p)) == 0;
            oCount++;
            oLive++;
            bumpRecv();
            offered = 1;
            res = OFFERED
          :: else -> skip
          fi;
          if
          :: !registered && !(offered && (SPINP & (1 << p)) != 0) -> sendWaiting++; SETSLOW; registered = 1
          :: else -> skip
          fi;
          if
          :: res == WAIT -> armS = 1; seen = seqS; RECHECK_ROOM
          :: else -> skip
          fi
        :: else -> skip
        fi
      fi
    fi;
    if
    :: res == OFFERED && !registered ->
      skip /* an unregistered offer: spins below, reads no futex word */
    :: res == OFFERED && registered ->
      /* the caller reads the futex word in the same critical section (send(): readSeq) */
      armS = 1; seen = seqS; RECHECK_ROOM; res = WAIT
    :: else -> skip
    fi;
    UNLOCK;
    if
    :: res == OFFERED ->
      /* spinOffer: racy reads of HEAD_SEQ; taken (moved into the buffer) is final */
      if
      :: oHeadSeq > ticket -> res = DONE
      :: true ->
        /* the spin ran out: offerLocked(registered = false) */
        LOCK;
        if
        :: oHeadSeq > ticket -> res = DONE
        :: oHeadSeq <= ticket && recvOpen == 0 -> res = BROKEN
        :: oHeadSeq <= ticket && recvOpen > 0 ->
          sendWaiting++; SETSLOW; registered = 1;
          oreg[(oHeadIdx + ticket - oHeadSeq) % OFFQ] = 1; /* markWaiter */
          armS = 1; seen = seqS; RECHECK_ROOM; res = WAIT
        fi;
        UNLOCK
      fi
    :: else -> skip
    fi;
    if
    :: res == DONE -> delivered++; k++; goto nextValue
    :: res == BROKEN -> goto closeUp
    :: else -> skip
    fi;
    /* parked: woken by a bump, or cancelled */
    if
    :: seqS != seen || staleS -> staleS = 0; LOCK; goto retry
    :: (CANCELP & (1 << p)) != 0 ->
      LOCK;
      if
      :: offered && oHeadSeq > ticket -> UNLOCK; delivered++; k++   /* too late: taken (unregistered by its mover) */
      :: offered && oHeadSeq <= ticket && recvOpen == 0 -> sendWaiting--; UNLOCK; goto closeUp
      :: offered && oHeadSeq <= ticket && recvOpen > 0 ->
        otomb[(oHeadIdx + ticket - oHeadSeq) % OFFQ] = 1;
        oreg[(oHeadIdx + ticket - oHeadSeq) % OFFQ] = 0;
        oLive--;
        sendWaiting--;
        UNLOCK;
        gone[v] = 1;
        ngone++;
        k++
      :: !offered -> sendWaiting--; UNLOCK; gone[v] = 1; ngone++; k++
      fi
    fi;
nextValue:
    skip
  od;
closeUp:
#ifndef NOCLOSE
  LOCK;
  sendOpen--;
  bumpRecv();
  bumpSend();
  UNLOCK;
#endif
  finished++
}

proctype Consumer(byte c) {
  byte h;
  byte s;
  bool cas;
  bool ok;
  byte r2;
  byte t;
  bool sl;
  byte res;
  byte seen;
  bool registered;
  bool cancelled; /* one cancellation per consumer: keeps the futex words bounded */
  do
#ifdef NOCLOSE
  :: received + ngone + LEAVE >= NVAL -> break
#endif
  :: true ->
    /* an early close (RCLOSE): at any point between receives */
    if
    :: (RCLOSE & (1 << c)) != 0 ->
      LOCK;
      recvOpen--;
      if
      :: recvOpen == 0 ->
        /* drainFastLocked, then the offers dropped (HEAD_SEQ kept: offers read as broken) */
        SETSLOW;
        do
        :: true ->
          h = head;
          s = stamp[IDX(h)];
          if
          :: s == h + 1 -> atomic { head = NEXT(h); inbuf--; dropped++; got[data[IDX(h)]] = 1 }; stamp[IDX(h)] = h + LAP
          :: s != h + 1 && tail == head -> break
          :: else -> skip
          fi
        od;
        do
        :: oCount > 0 ->
          /* an offer's send was not complete: its sender sees BROKEN (not counted delivered) */
          otomb[oHeadIdx] = 0;
          oHeadIdx = (oHeadIdx + 1) % OFFQ;
          oCount--
        :: else -> break
        od;
        oLive = 0;
        oHeadIdx = 0
      :: else -> skip
      fi;
      bumpSend();
      bumpRecv();
      UNLOCK;
      break
    :: true -> skip
    fi;
    registered = 0;
    /* tryReceiveFast */
    vpop(ok);
    if
    :: ok ->
#ifndef NO_SLOW_READ
      if
      /* only if an offer is queued or a sender armed (two racy reads; the fourth pair) */
      :: slowM ->
        if
        :: oCount > 0 -> LOCK; service(); bumpSend(); UNLOCK
        :: else ->
          if
          :: armS -> LOCK; service(); bumpSend(); UNLOCK
          :: else -> skip
          fi
        fi
      :: else -> skip
      fi;
#endif
      goto nextReceive
    :: else -> skip
    fi;
    LOCK;
again:
    /* receiveFastLocked */
    vpop(ok);
    if
    :: ok ->
      if
      :: registered -> recvWaiting--
      :: else -> skip
      fi;
      service();
      bumpSend();
      if
      :: tail != head || sendOpen == 0 -> bumpRecv()
      :: else -> skip
      fi;
      res = DONE
    :: else ->
      if
      :: oCount > 0 && tail != head -> goto again /* a sender between its CAS and its stamp */
      :: else -> skip
      fi;
      do
      :: oCount > 0 && otomb[oHeadIdx] -> otomb[oHeadIdx] = 0; advanceHead()
      :: else -> break
      od;
      if
      :: oCount > 0 ->
        recordTake(oval[oHeadIdx]);
        completed();
        oLive--;
        advanceHead();
        if
        :: registered -> recvWaiting--
        :: else -> skip
        fi;
        service();
        res = DONE
      :: oCount == 0 && sendOpen == 0 ->
        if
        :: registered -> recvWaiting--
        :: else -> skip
        fi;
        res = END
      :: oCount == 0 && sendOpen > 0 && !registered ->
        recvWaiting++;
        registered = 1;
#ifndef NO_RECHECK_RECV
        goto again
#else
        armR = 1; seen = seqR; res = WAIT
#endif
      :: oCount == 0 && sendOpen > 0 && registered ->
        /* Ring.readSeq: arm, read the word, then look at the buffer (the third pair) */
        armR = 1;
        seen = seqR;
#ifndef NO_ARM_RECHECK
        if
        :: tail != head -> res = RETRY /* a value that may not have seen the arm: the wait returns at once */
        :: else -> skip
        fi;
#endif
        if
        :: res != RETRY -> res = WAIT
        :: else -> skip
        fi
      fi
    fi;
    UNLOCK;
    if
    :: res == DONE -> goto nextReceive
    :: res == END -> break
    :: else -> skip
    fi;
    if
    :: seqR != seen || res == RETRY -> LOCK; goto again
#ifdef NOCLOSE
    :: received + ngone + LEAVE >= NVAL -> break /* every value is taken: the run is over (not a wake-up) */
#endif
    :: (CANCELC & (1 << c)) != 0 && !cancelled ->
      cancelled = 1;
      /* withdrawReceiveLocked (capacity > 0: no promises): withdraw, pass the baton */
      LOCK;
      recvWaiting--;
      if
      :: tail != head -> bumpRecv()
      :: else -> skip
      fi;
      UNLOCK
    fi;
nextReceive:
    skip
  od;
  finished++
}

init {
  byte k;
  atomic {
    k = 0;
    do
    :: k < CAP -> stamp[k] = k; k++
    :: else -> break
    od;
    k = 0;
    do
    :: k < NP -> run Producer(k); k++
    :: else -> break
    od;
    k = 0;
    do
    :: k < NC -> run Consumer(k); k++
    :: else -> break
    od
  }
  finished == NP + NC;
  /* every delivered value was received or dropped, once; no withdrawn value was */
  assert(received + dropped + inbuf == delivered);
  assert(inbuf <= LEAVE);
  assert(oLive == 0)
}
