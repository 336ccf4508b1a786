/*
 * select.pml: a waiting `select` on shared size-0 channels against plain
 * operations in other threads (packages/channels/src/select/{select,shared}.ts,
 * ring.ts "Select"), as a Promela model for spin. README.md next to this file
 * maps it to the code.
 *
 * The select S waits on two size-0 channels in one thread:
 *   case 0: send SVAL on c0. S posts an *offer* there (OfferRecord,
 *           selectOfferLocked); a receiver in any thread may take it, and that
 *           take is case 0's commit. S withdraws it under c0's lock before it
 *           commits anything else or gives up (rule O2); a withdrawal that
 *           finds it taken means case 0 committed.
 *   case 1: receive on c1. S registers a *watcher* (selectRegisterLocked);
 *           only S's own thread completes it, under c1's lock.
 * Partners, each its own thread:
 *   R0: a plain `await receive()` on c0 (may take S's offer, or a value S's
 *       poll hands it);
 *   P1: a plain `await send(P1VAL)` on c1 (its offer may be taken by S's
 *       watcher).
 * When S is done it closes its handles (c0's sender, c1's receiver), so R0
 * ends with END and P1 with BROKEN unless S paired with them.
 * With -DMEM, S also has
 *   case 2: receive on a memory channel of S's own thread, and a task of that
 *           thread, M, sends MVAL on it once at any moment S waits. M pairs
 *           with S's memory entry synchronously (MemoryEntry.claim): it
 *           settles the offer first (O2) and, if R0 had taken it, is refused
 *           and keeps MVAL (memory-channel-state.ts serves its next waiter,
 *           here none, so M waits on); else case 2 commits with MVAL.
 *
 * S's thread runs its two dispatchers (the send side of c0, the receive side of
 * c1) and the microtask `resolve` (shared.ts OfferRecord.resolve) one at a time,
 * in any order their wake-ups allow: one process choosing among enabled
 * events. The channel lock is one atomic step per critical section
 * (run-spin.sh's SIMPLE_LOCK); a futex wait is a guard on the word changing
 * (every bump is followed by a notify: ring.ts unlock). Bumps are gated on
 * registered waiters and the armed bits, as in ring.ts "Wake-ups".
 *
 * Configuration (-D):
 *   CANCEL   S may be cancelled while it waits (abort: settleOffer, then the
 *            watcher is withdrawn) — the withdrawing loser          default 0
 *   R0LATE   R0 starts only after S has registered (else any time)  default 0
 *   NOR0     no R0: only P1 can complete S (with CANCEL 0, a lost wake-up
 *            of S's watcher is then a process parked forever)
 *   MEM      S has the memory case 2 and its partner M (above)
 * Mutations, which the checks must catch (run-spin.sh --select-mutation):
 *   MUT_NO_O2      resolve attempts case 1 before withdrawing the offer, and
 *                  commits it whatever the withdrawal finds (O2 broken: two
 *                  cases commit when R0 took the offer meanwhile)
 *   MUT_UNARMED    the watcher registers without reading (arming) c1's futex
 *                  word (ring.ts "Wake-ups" broken: a lost wake-up)
 *   MUT_MEM_NO_O2  (with MEM) M claims S's memory entry without settling the
 *                  offer (two cases commit when R0 took the offer)
 *
 * Checked: exactly one case of S commits (none only if cancelled first);
 * R0 got S's value iff case 0 committed; S got P1's value iff case 1
 * committed and then P1's send completed; no value is lost or duplicated;
 * every count is back to 0; and invalid end states: a process parked forever
 * (a lost wake-up) is an error.
 */

#ifndef CANCEL
#define CANCEL 0
#endif
#ifndef R0LATE
#define R0LATE 0
#endif
#ifdef MEM
#define HAS_MEM 1
#else
#define HAS_MEM 0
#endif
#ifdef NOR0
#define RUN_R0 0
#else
#define RUN_R0 1
#endif

#define DONE 0
#define OFFERED 1
#define WAIT 2
#define BROKEN 3
#define WB 4
#define END 5

#define SVAL 7
#define P1VAL 9
#define MVAL 11
#define NONE 255

/* ---- per channel header (layout.ts), c = 0, 1 ---- */
byte ent[2];           /* the one live entry's value (0: none); at most one sender per channel here */
bit promised[2];       /* that entry is ENTRY_VALUE promised to plain waiting receivers (HANDOFFS = 1) */
byte headSeq[2];       /* H_HEAD_SEQ: takes so far */
byte sendOpen[2];      /* H_SEND_OPEN */
byte recvOpen[2];      /* H_RECV_OPEN */
byte sendWaiting[2];   /* H_SEND_WAITING */
byte recvWaiting[2];   /* H_RECV_WAITING (select watchers included) */
byte selects[2];       /* H_SELECTS, receive field (this model has no send watchers) */
byte seqS[2];          /* H_SEQ_SEND */
byte seqR[2];          /* H_SEQ_RECV */
bit armS[2];
bit armR[2];

/* ---- ghost state ---- */
byte sCommit = NONE;   /* the case S committed (0, 1, 3: the memory case 2), or 2: cancelled, nothing committed */
bit memSent = 0;       /* M's value went to S's memory case (M's send completed) */
bit memRefused = 0;    /* M found S's offer taken: refused, M keeps MVAL */
byte sGot = 0;         /* what S's receive case got */
byte r0Got = 0;        /* what R0 received (0: END) */
byte p1Res = NONE;     /* P1's send result: DONE or BROKEN */
bit sRegistered = 0;
byte finished = 0;

inline bumpSend(c) {
  if
  :: sendWaiting[c] > 0 && armS[c] -> armS[c] = 0; seqS[c]++
  :: else -> skip
  fi
}
inline bumpRecv(c) {
  if
  :: recvWaiting[c] > 0 && armR[c] -> armR[c] = 0; seqR[c]++
  :: else -> skip
  fi
}
inline readSeqS(c, out) { armS[c] = 1; out = seqS[c] }
inline readSeqR(c, out) { armR[c] = 1; out = seqR[c] }

/* takeHead + advanceHead, and receiveLocked's baton bump */
inline take(c, out) {
  out = ent[c]; ent[c] = 0; headSeq[c]++;
  bumpSend(c);
  if
  :: sendOpen[c] == 0 -> bumpRecv(c)
  :: else -> skip
  fi
}

/* ring.ts receiveLocked(registered, nowait): r = DONE (out set), END, WB or WAIT (now registered; seen read). */
inline receiveLocked(c, reg, nowait, r, out, seen) {
  if
  :: ent[c] != 0 && (reg || !promised[c]) ->
     if
     :: reg -> recvWaiting[c]--; promised[c] = 0   /* a promised head goes to a registered receiver (R3) */
     :: else -> skip
     fi;
     take(c, out); r = DONE
  :: else ->
     if
     :: ent[c] == 0 && sendOpen[c] == 0 ->
        if :: reg -> recvWaiting[c]-- :: else -> skip fi; r = END
     :: else ->
        if
        :: nowait -> r = WB
        :: else ->
           if :: !reg -> recvWaiting[c]++ :: else -> skip fi;
           readSeqR(c, seen); r = WAIT
        fi
     fi
  fi
}

/* ring.ts offerLocked(ticket, withdraw) for a registered sender whose entry went in with `ticket`. */
inline offerLocked(c, ticket, withdraw, r, seen) {
  if
  :: headSeq[c] != ticket -> sendWaiting[c]--; r = DONE          /* taken */
  :: else ->
     if
     :: recvOpen[c] == 0 -> sendWaiting[c]--; r = BROKEN
     :: else ->
        if
        :: !withdraw -> readSeqS(c, seen); r = WAIT
        :: else -> ent[c] = 0; sendWaiting[c]--; r = WB          /* tombstone: withdrawn */
        fi
     fi
  fi
}

/* closeLocked: one handle of a side closes (the last one of it here) */
inline closeSend(c) {
  sendOpen[c]--; bumpRecv(c); bumpSend(c)
}
inline closeRecv(c) {
  recvOpen[c]--;
  if
  :: recvOpen[c] == 0 -> ent[c] = 0; promised[c] = 0   /* the buffer is dropped; HEAD_SEQ does not move */
  :: else -> skip
  fi;
  bumpSend(c); bumpRecv(c)
}

/* ======================= S: the select ======================= */
proctype S() {
  byte r, w, got, ticket, seenS, seenR, tmp;
  bit offered = 0, watching = 0, cancelled = 0;

  /* Pass 1 (pollLocked: both locks at once): the send case by sendNowait's rule
     (a hand-off to a plain waiting receiver), the receive case by receiveNowait's. */
  atomic {
    if
    :: recvWaiting[0] - selects[0] > 0 && ent[0] == 0 && recvOpen[0] > 0 ->
       ent[0] = SVAL; promised[0] = 1; bumpRecv(0); sCommit = 0
    :: else ->
       receiveLocked(1, 0, 1, r, got, tmp);
       if
       :: r == DONE -> sGot = got; sCommit = 1
       :: else -> skip
       fi
    fi
  }
  if
  :: sCommit != NONE -> goto done
  :: else -> skip
  fi;

  /* Pass 2 (register): the watcher under c1's lock, re-attempting first ... */
  atomic {
    receiveLocked(1, 0, 1, r, got, tmp);
    if
    :: r == DONE -> sGot = got; sCommit = 1
    :: else ->
       recvWaiting[1]++; selects[1]++; watching = 1;
#ifdef MUT_UNARMED
       seenR = seqR[1]
#else
       readSeqR(1, seenR)
#endif
    fi
  }
  if
  :: sCommit != NONE -> goto done
  :: else -> skip
  fi;
  /* ... then the offer, last (registerOffer: selectOfferLocked, registered = false). */
  atomic {
    sendWaiting[0]++; ticket = headSeq[0]; ent[0] = SVAL; promised[0] = 0; bumpRecv(0);
    readSeqS(0, seenS); offered = 1; sRegistered = 1
  }

  /* Wait: the thread's event loop runs whichever wake-up came. */
waiting:
  do
  :: seqS[0] != seenS ->
     /* c0's send dispatcher round: OfferRecord.attemptLocked (offered) */
     atomic {
       if
       :: offered ->
          offerLocked(0, ticket, 0, r, seenS);
          if
          :: r == DONE -> offered = 0; assert(sCommit == NONE); sCommit = 0
          :: else -> skip   /* WAIT: seenS read (the round's readSeq) */
          fi
       :: else -> readSeqS(0, seenS)
       fi
     }
     if
     :: sCommit == 0 ->
        atomic { recvWaiting[1]--; selects[1]--; watching = 0 }   /* S2: the watcher is withdrawn (selectUnregisterLocked) */
        break
     :: else -> skip
     fi
  :: seqR[1] != seenR ->
     /* c1's receive dispatcher round: the watcher finds the offer live and
        schedules resolve; the round ends with readSeq. */
     atomic { readSeqR(1, seenR) }
#ifdef MUT_NO_O2
     /* the mutation: case 1 first, committed whatever happened to the offer */
     atomic {
       receiveLocked(1, 0, 1, r, got, tmp);
       if
       :: r == DONE -> recvWaiting[1]--; selects[1]--; watching = 0; sCommit = 1; sGot = got
       :: else -> skip
       fi
     }
     if
     :: sCommit == 1 -> atomic { offerLocked(0, ticket, 1, w, tmp); offered = 0 }; break
     :: else -> skip
     fi;
#endif
     /* resolve(), a microtask: withdraw the offer (O2) under c0's lock ... */
     atomic {
       offerLocked(0, ticket, 1, w, tmp);
       offered = 0
     }
     if
     :: w == DONE ->
        assert(sCommit == NONE); sCommit = 0;
        atomic { recvWaiting[1]--; selects[1]--; watching = 0 };
        break
     :: else -> skip
     fi;
     /* ... attempt the other case under its lock ... */
     atomic {
       receiveLocked(1, 0, 1, r, got, tmp);
       if
       :: r == DONE -> recvWaiting[1]--; selects[1]--; watching = 0; assert(sCommit == NONE); sCommit = 1; sGot = got
       :: else -> skip
       fi
     }
     if
     :: sCommit == 1 -> break
     :: else -> skip
     fi;
     /* ... and post the offer again (post(): selectOfferLocked). */
     atomic {
       if
       :: recvOpen[0] == 0 -> skip   /* not reached here: R0 never closes first */
       :: else -> sendWaiting[0]++; ticket = headSeq[0]; ent[0] = SVAL; promised[0] = 0; bumpRecv(0); readSeqS(0, tmp); offered = 1
       fi
     }
  :: HAS_MEM && !memRefused ->
     /* M, a task of S's thread, sends MVAL and finds S's memory entry
        (MemoryEntry.claim): O2 first, under c0's lock ... */
#ifdef MUT_MEM_NO_O2
     w = WB;
#else
     atomic {
       if
       :: offered -> offerLocked(0, ticket, 1, w, tmp); offered = 0
       :: else -> w = WB
       fi
     }
#endif
     if
     :: w == DONE ->
        /* ... R0 had taken the offer: case 0 committed, M is refused and keeps MVAL */
        assert(sCommit == NONE); sCommit = 0; memRefused = 1
     :: else ->
        /* ... withdrawn: case 2 commits with M's value */
        assert(sCommit == NONE); sCommit = 3; sGot = MVAL; memSent = 1
     fi;
#ifdef MUT_MEM_NO_O2
     /* S2's withdrawal (OfferRecord.withdraw), whatever it finds */
     atomic {
       if
       :: offered -> offerLocked(0, ticket, 1, w, tmp); offered = 0
       :: else -> skip
       fi
     }
#endif
     atomic { recvWaiting[1]--; selects[1]--; watching = 0 };
     break
  :: CANCEL && !cancelled ->
     /* abort(): settleOffer (O2), then withdraw everything */
     cancelled = 1;
     atomic {
       if
       :: offered -> offerLocked(0, ticket, 1, w, tmp); offered = 0
       :: else -> w = WB
       fi
     }
     atomic { recvWaiting[1]--; selects[1]--; watching = 0 };
     if
     :: w == DONE -> assert(sCommit == NONE); sCommit = 0   /* too late: R0 took the offer */
     :: else -> assert(sCommit == NONE); sCommit = 2
     fi;
     break
  od;
done:
  assert(!offered && !watching);
  /* S closes its handles: c0's send side, c1's receive side. */
  atomic { closeSend(0) }
  atomic { closeRecv(1) }
  finished++
}

/* ======================= R0: plain await receive() on c0 ======================= */
proctype R0() {
  byte r, got, seen;
  if
  :: R0LATE -> sRegistered == 1 || sCommit != NONE
  :: else -> skip
  fi;
  atomic { receiveLocked(0, 0, 0, r, got, seen) }
  do
  :: r == WAIT ->
     seqR[0] != seen;
     atomic { receiveLocked(0, 1, 0, r, got, seen) }
  :: r == DONE -> r0Got = got; break
  :: r == END -> r0Got = 0; break
  od;
  atomic { closeRecv(0) }
  finished++
}

/* ======================= P1: plain await send(P1VAL) on c1 ======================= */
proctype P1() {
  byte r, seen, ticket;
  atomic {
    if
    :: recvOpen[1] == 0 -> r = BROKEN
    :: else ->
       /* a hand-off needs a plain waiting receiver; c1's only receiver is S's watcher: an offer */
       assert(recvWaiting[1] - selects[1] == 0);
       sendWaiting[1]++; ticket = headSeq[1]; ent[1] = P1VAL; bumpRecv(1); readSeqS(1, seen); r = WAIT
    fi
  }
  do
  :: r == WAIT ->
     seqS[1] != seen;
     atomic { offerLocked(1, ticket, 0, r, seen) }
  :: r == DONE || r == BROKEN -> p1Res = r; break
  od;
  atomic { closeSend(1) }
  finished++
}

init {
  sendOpen[0] = 1; recvOpen[0] = 1; sendOpen[1] = 1; recvOpen[1] = 1;
  atomic {
    run S(); run P1();
    if
    :: RUN_R0 -> run R0()
    :: else -> skip
    fi
  }
  finished == 2 + RUN_R0;
  /* exactly one case committed, or none because S was cancelled before either */
  assert(sCommit == 0 || sCommit == 1 || (CANCEL && sCommit == 2) || (HAS_MEM && sCommit == 3));
  /* case 2 committed iff S got M's value; M is refused only when the offer had been taken */
  assert((sCommit == 3) == (memSent == 1 && sGot == MVAL));
  assert(!memRefused || sCommit == 0);
  /* case 0 committed iff R0 got S's value */
  assert((sCommit == 0) == (r0Got == SVAL));
  /* case 1 committed iff S got P1's value iff P1's send completed */
  assert((sCommit == 1) == (sGot == P1VAL));
  assert((sCommit == 1) == (p1Res == DONE));
  assert(r0Got == 0 || r0Got == SVAL);
  /* the channels are quiet: nobody counted as waiting, no entry left */
  assert(sendWaiting[0] == 0 && recvWaiting[0] == 0 && sendWaiting[1] == 0 && recvWaiting[1] == 0);
  assert(selects[0] == 0 && selects[1] == 0);
  assert(ent[0] == 0 && ent[1] == 0)
}
