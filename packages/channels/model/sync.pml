/*
 * Model of the shared lock protocol (src/shared/sync-primitives/cell.ts,
 * local.ts, shared-lock.ts): the lock word W = (holder, CONTENDED), the
 * one-CAS fast paths, the guard-protected FIFO of waiter nodes, the handoff
 * on release, per-node futex words (wait with compare, notify), cancellation
 * of a waiter (withdraw under the guard, TOO_LATE once granted) and a thread
 * that dies holding the lock or while queued (the worker-exit hook releases
 * and poisons).
 *
 * Checked: mutual exclusion; K1 (CONTENDED <=> queue non-empty whenever the
 * guard is free); a fast acquire never overtakes a queued waiter; no waiter
 * parked forever (invalid end state); at the end the lock is free and the
 * queue empty. Options: -DNT= threads (2..3), -DLAPS= acquisitions each,
 * -DNCANCEL= cancellations allowed in all, -DDIE (thread 1 may die holding or
 * queued; a hook process then runs releaseSyncOfDeadThread).
 */
#ifndef NT
#define NT 2
#endif
#ifndef LAPS
#define LAPS 2
#endif
#ifndef BUG
#define BUG 0
#endif
#ifndef NCANCEL
#define NCANCEL 1
#endif

#define WAITING 0
#define GRANTED 1

byte holder = 0;          /* W >> 1: thread id (1-based), 0 = free */
bit contended = 0;        /* W & CONTENDED */
byte g = 0;               /* the guard: 0 free, else the thread (or NT+1 for the hook) holding it */
byte q[NT];               /* FIFO of queued thread ids */
byte qlen = 0;
byte word[NT + 1];        /* each thread's node word */
bit parkedOn[NT + 1];     /* parked in Atomics.wait(Async) on its node word */
byte inCS = 0;
byte cancels = NCANCEL;
bit poisoned = 0;
bit dead = 0;
bit diedHolding = 0;
bit hookDone = 0;
byte finished = 0;

inline guard(me) { atomic { g == 0 -> g = me } }
inline unguard() { g = 0 }

inline enqueue(id) { q[qlen] = id; qlen++ }

inline dequeue(out) {
  out = q[0];
  byte k_ = 0;
  do
  :: k_ + 1 < qlen -> q[k_] = q[k_ + 1]; k_++
  :: else -> break
  od;
  qlen--; q[qlen] = 0
}

inline removeId(id) {
  byte j_ = 0; byte m_ = 0;
  do
  :: j_ < qlen ->
     if
     :: q[j_] != id -> q[m_] = q[j_]; m_++
     :: else -> skip
     fi;
     j_++
  :: else -> break
  od;
  do
  :: m_ < qlen -> qlen--; q[qlen] = 0
  :: else -> break
  od
}

/* cell.ts handOffLocked: the guard is held. Store GRANTED, then notify. */
inline handOff() {
  byte n_;
  if
  :: qlen == 0 -> assert(contended == 0); holder = 0
  :: else ->
     dequeue(n_);
     atomic { holder = n_; contended = (qlen > 0) };
     word[n_] = GRANTED;
     parkedOn[n_] = 0   /* Atomics.notify(node word) */
  fi
}

proctype Thread(byte id) {
  byte lap = 0;
  bit ok;
  bit canDie = 0;
#ifdef DIE
  if :: id == 1 -> canDie = 1 :: else -> skip fi;
#endif
  do
  :: lap < LAPS ->
acquire:
     /* lockFast: CAS W 0 -> me */
     atomic {
       if
       :: holder == 0 && contended == 0 -> holder = id; ok = 1; assert(qlen == 0)
       :: else -> ok = 0
       fi
     };
     if
     :: ok -> goto got
     :: else -> skip
     fi;
     /* lockOrQueue, under the guard */
     guard(id);
     atomic {
       if
       :: holder == 0 && contended == 0 -> holder = id; ok = 1
#if BUG == 1
       :: else -> word[id] = WAITING; enqueue(id); ok = 0           /* mutation: no CONTENDED bit */
#else
       :: else -> contended = 1; word[id] = WAITING; enqueue(id); ok = 0
#endif
       fi
     };
     unguard();
     if
     :: ok -> goto got
     :: else -> skip
     fi;
     /* wait for GRANTED: compare-and-park, or be cancelled, or die */
     do
     :: word[id] == GRANTED -> goto got
     :: atomic { word[id] == WAITING -> parkedOn[id] = 1 };
        if
        :: parkedOn[id] == 0 -> skip                     /* notified (or our own retire) */
        :: atomic { cancels > 0 && parkedOn[id] == 1 -> cancels-- };
           guard(id);
           if
#if BUG != 2
           :: word[id] == GRANTED -> unguard(); parkedOn[id] = 0; goto got   /* TOO_LATE: it is ours */
#endif
           :: else ->
              removeId(id);
              if :: qlen == 0 -> contended = 0 :: else -> skip fi;
              unguard();
              parkedOn[id] = 0;                             /* retire our own wait */
              goto acquire                                  /* retry: a cancelled acquire acquired nothing */
           fi
#ifdef DIE
        :: canDie && parkedOn[id] == 1 -> dead = 1; goto gone   /* dies while queued */
#endif
        fi
     od;
got:
     assert(holder == id);
     inCS++;
     assert(inCS == 1);
     inCS--;
#ifdef DIE
     if
     :: canDie -> diedHolding = 1; dead = 1; goto gone         /* dies holding the lock */
     :: else -> skip
     fi;
#endif
     /* release: unlockFast CAS me -> 0, else unlockSlow */
     atomic {
       if
       :: holder == id && contended == 0 -> holder = 0; ok = 1
       :: else -> ok = 0
       fi
     };
     if
     :: !ok -> guard(id); handOff(); unguard()
     :: else -> skip
     fi;
     lap++
  :: else -> break
  od;
gone:
  finished++
}

#ifdef DIE
/* open.ts releaseSyncOfDeadThread -> cell.ts deadThread, on the pool's thread */
active proctype Hook() {
end: dead == 1;
  guard(NT + 1);
  if
  :: word[1] == WAITING -> removeId(1)
  :: else -> skip
  fi;
  if :: qlen == 0 -> contended = 0 :: else -> skip fi;
  if
  :: holder == 1 -> poisoned = 1; handOff()
  :: else -> skip
  fi;
  unguard();
  hookDone = 1
}
#endif

/* K1 whenever the guard is free */
active proctype Monitor() {
end: atomic { g == 0 && contended != (qlen > 0) -> assert(0) }
}

init {
  byte t = 1;
  atomic {
    do
    :: t <= NT -> run Thread(t); t++
    :: else -> break
    od
  };
  finished == NT;
#ifdef DIE
  (dead == 0 || hookDone);
  assert(diedHolding == 0 || poisoned == 1);
#endif
  assert(qlen == 0 && contended == 0);
  assert(holder == 0)
}
