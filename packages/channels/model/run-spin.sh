#!/usr/bin/env bash
# Model-checks the shared ring's wait/notify protocol (ring.pml) with spin.
# Installs nothing: needs `spin` and `gcc` on PATH (CI: apt-get install spin).
#
#   bash packages/channels/model/run-spin.sh              # the code as it is (faithful model; includes
#                                                         # the two fixes this model found, -DFIXED)
#   bash packages/channels/model/run-spin.sh --before-fix # the code before those fixes: shows the two lost wake-ups
#   bash packages/channels/model/run-spin.sh --ungated    # with every bump ungated, as before 4caa4ae (-DUNGATED)
#   bash packages/channels/model/run-spin.sh --unarmed    # bumps not gated on H_ARMED, as before the armed bits (-DUNARMED)
#   bash packages/channels/model/run-spin.sh --spin-unarmed --only cap0-2p2c-spin
#                                                         # mutation: an unregistered offer that registers without
#                                                         # reading the futex word must be caught (a sender parked forever)
#   bash packages/channels/model/run-spin.sh --only NAME   # one configuration (see CONFIGS, SELECT_CONFIGS, FAST_CONFIGS)
#   bash packages/channels/model/run-spin.sh --select-mutation MUT_NO_O2 --only select-r0-p1
#                                                         # a mutation of select.pml (MUT_NO_O2, MUT_UNARMED with
#                                                         # select-p1-only, MUT_MEM_NO_O2 with select-r0-p1-mem)
#                                                         # that its checks must catch
#   bash packages/channels/model/run-spin.sh --fast-mutations  # fast.pml mutations: exit 0 only if every one is caught
#   bash packages/channels/model/run-spin.sh --zslot-mutations # ring.pml's size-0 slot (ZP) mutations: the same
#
# Every configuration is an exhaustive safety run (assertions + invalid end
# states = a waiter parked forever); a search that hits the memory or depth
# bound counts as an error. On an error the counterexample is replayed and its
# scenario lines printed. Exit status: 0 only if every configuration has 0 errors.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
variant=faithful
extra="-DFIXED"
only=""
selmut=""
while [ $# -gt 0 ]; do
  case "$1" in
    --before-fix) variant=before-fix; extra="" ;;
    --fixed) variant=faithful; extra="-DFIXED" ;;   # the default; kept for old commands
    --ungated) variant=ungated; extra="-DFIXED -DUNGATED" ;;
    --unarmed) variant=unarmed; extra="-DFIXED -DUNARMED" ;;
    --spin-unarmed) variant=spin-unarmed; extra="-DFIXED -DSPIN_UNARMED" ;;   # a mutation the *-spin* configurations must catch
    --fast-mutations) variant=fast-mutations ;;   # fast.pml with one half of a Dekker pair removed: every one must fail
    --zslot-mutations) variant=zslot-mutations ;; # ring.pml's size-0 slot with one rule removed: every one must fail
    --only) only="$2"; shift ;;
    --select-mutation) selmut="-D$2"; shift ;;
    *) echo "run-spin.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
for tool in spin gcc; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run-spin.sh: $tool not found (apt-get install -y spin gcc)" >&2; exit 2; }
done

# name | -D options (SIMPLE_LOCK: the channel lock as one atomic step; the
# futex-lock configurations model lock.ts step by step on smaller runs)
CONFIGS=(
  "cap0-1p2c-sync|-DSIMPLE_LOCK -DCAP=0 -DNP=1 -DNC=2 -DNV=1 -DSYNCP=1 -DNCANCEL=0"
  "cap0-1p2c-async-cancel|-DSIMPLE_LOCK -DCAP=0 -DNP=1 -DNC=2 -DNV=1 -DCANCELP=0 -DCANCELC=1"
  "cap0-2p2c-async-cancel|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=2 -DNV=1 -DCANCELP=1 -DCANCELC=1"
  "cap0-2p2c-sync-cancel|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=2 -DNV=1 -DSYNCP=2 -DCANCELP=1 -DCANCELC=1"
  "cap0-2p2c-2values|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=2 -DNV=2 -DNCANCEL=0"
  "cap0-2p2c-sync|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=2 -DNV=1 -DSYNCP=3 -DNCANCEL=0"
  "cap0-1p2c-cancel-all|-DSIMPLE_LOCK -DCAP=0 -DNP=1 -DNC=2 -DNV=2 -DCANCELP=1 -DCANCELC=3"
  "cap0-2p1c-cancel-all|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=1 -DNV=1 -DCANCELP=3 -DCANCELC=1"
  "cap0-2p1c-2values-cancel|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=1 -DNV=2 -DCANCELP=1 -DCANCELC=1"
  "cap0-2p2c-early-close|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=2 -DNV=1 -DRCLOSE=3 -DSYNCP=2 -DCANCELP=1 -DCANCELC=0"
  "cap1-2p2c-cancel|-DSIMPLE_LOCK -DCAP=1 -DNP=2 -DNC=2 -DNV=1 -DCANCELP=3 -DCANCELC=1"
  "cap1-2p2c-2values|-DSIMPLE_LOCK -DCAP=1 -DNP=2 -DNC=2 -DNV=2 -DSYNCP=2 -DNCANCEL=0"
  "cap1-ring-full-2p2c|-DSIMPLE_LOCK -DCAP=1 -DOVF=0 -DNP=2 -DNC=2 -DNV=2 -DCANCELP=1 -DCANCELC=0"
  "cap2-2p1c-cancel|-DSIMPLE_LOCK -DCAP=2 -DNP=2 -DNC=1 -DNV=2 -DCANCELP=3 -DCANCELC=1"
  "cap1-2p2c-early-close|-DSIMPLE_LOCK -DCAP=1 -DNP=2 -DNC=2 -DNV=1 -DRCLOSE=3 -DCANCELP=1 -DCANCELC=0"
  "cap0-2p2c-spin|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=2 -DNV=1 -DSPINP=3 -DNCANCEL=0"
  "cap0-1p1c-spin-2values|-DSIMPLE_LOCK -DCAP=0 -DNP=1 -DNC=1 -DNV=2 -DSPINP=1 -DCANCELP=1 -DCANCELC=1"
  "cap0-2p1c-spin-cancel|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=1 -DNV=1 -DSPINP=3 -DCANCELP=3 -DCANCELC=1"
  "cap0-1p2c-spin-cancel|-DSIMPLE_LOCK -DCAP=0 -DNP=1 -DNC=2 -DNV=2 -DSPINP=1 -DCANCELP=1 -DCANCELC=3"
  "cap0-2p2c-spin-mixed-close|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=2 -DNV=1 -DSPINP=1 -DSYNCP=2 -DRCLOSE=1 -DCANCELP=1 -DCANCELC=0"
  "cap1-2p2c-spin-cancel|-DSIMPLE_LOCK -DCAP=1 -DNP=2 -DNC=2 -DNV=1 -DSPINP=3 -DCANCELP=1 -DCANCELC=1"
  "cap1-2p2c-spin-early-close|-DSIMPLE_LOCK -DCAP=1 -DNP=2 -DNC=2 -DNV=1 -DSPINP=3 -DRCLOSE=3 -DCANCELP=1 -DCANCELC=0"
  "cap0-zslot-1p2c-2values|-DSIMPLE_LOCK -DCAP=0 -DNP=1 -DNC=2 -DNV=2 -DZP=1 -DNCANCEL=0"
  "cap0-zslot-nogiveup-1p2c-2values|-DSIMPLE_LOCK -DZNOGIVEUP -DCAP=0 -DNP=1 -DNC=2 -DNV=2 -DZP=1 -DNCANCEL=0"
  "cap0-zslot-nogiveup-1p2c-cancel-close|-DSIMPLE_LOCK -DZNOGIVEUP -DCAP=0 -DNP=1 -DNC=2 -DNV=2 -DZP=1 -DRCLOSE=2 -DCANCELP=0 -DCANCELC=1"
  "cap0-zslot-1p2c-cancel-close|-DSIMPLE_LOCK -DCAP=0 -DNP=1 -DNC=2 -DNV=2 -DZP=1 -DRCLOSE=2 -DCANCELP=0 -DCANCELC=1"
  "cap0-zslot-2p1c-cancel|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=1 -DNV=1 -DZP=3 -DCANCELP=1 -DCANCELC=1"
  "cap0-zslot-2p2c-handoff|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=2 -DNV=1 -DZP=1 -DNCANCEL=0"
  "cap0-zslot-2p2c-sync-close|-DSIMPLE_LOCK -DCAP=0 -DNP=2 -DNC=2 -DNV=1 -DZP=1 -DSYNCP=2 -DRCLOSE=1 -DCANCELP=0 -DCANCELC=2"
  "futex-lock-cap0-2p1c-spin|-DCAP=0 -DNP=2 -DNC=1 -DNV=1 -DSPINP=3 -DNCANCEL=0"
  "futex-lock-cap0-2p1c|-DCAP=0 -DNP=2 -DNC=1 -DNV=1 -DNCANCEL=0"
  "futex-lock-cap1-1p2c|-DCAP=1 -DNP=1 -DNC=2 -DNV=1 -DNCANCEL=0"
)

# The shared sync primitives' lock protocol (sync.pml; src/shared/sync-primitives/).
# The ring's variant flags (--before-fix, ...) do not apply to it.
SYNC_CONFIGS=(
  "sync-lock-2t-cancel|-DNT=2 -DLAPS=2 -DNCANCEL=2"
  "sync-lock-3t-cancel|-DNT=3 -DLAPS=2 -DNCANCEL=1"
  "sync-lock-2t-die|-DNT=2 -DLAPS=2 -DNCANCEL=2 -DDIE"
  "sync-lock-3t-die|-DNT=3 -DLAPS=1 -DNCANCEL=2 -DDIE"
)

# A waiting select against plain operations in other threads (select.pml; src/select/shared.ts
# offers and watchers): exactly one case commits, no lost wake-up. The ring's variant flags do
# not apply to it; --select-mutation does.
SELECT_CONFIGS=(
  "select-r0-p1|"
  "select-r0-p1-cancel|-DCANCEL=1"
  "select-r0-late-p1-cancel|-DCANCEL=1 -DR0LATE=1"
  "select-p1-only|-DNOR0"
  "select-p1-only-cancel|-DNOR0 -DCANCEL=1"
  "select-r0-p1-mem|-DMEM"
  "select-r0-p1-mem-cancel|-DMEM -DCANCEL=1"
)

# The lock-free buffer of fast channels (fast.pml; src/shared/fast-slots.ts): lock-free sends
# and receives against waiting (offers, registered receivers), cancellation and close. The
# NOCLOSE ones keep the producers' closes from waking a receiver that lost a wake-up; LEAVE =
# CAP leaves values in the buffer so that an offer stuck beside free room is a parked sender.
FAST_CONFIGS=(
  "fast-cap1-2p1c|-DCAP=1 -DNP=2 -DNC=1 -DNV=2"
  "fast-cap1-2p1c-noclose-leave|-DNOCLOSE -DLEAVE=1 -DCAP=1 -DNP=2 -DNC=1 -DNV=2"
  "fast-cap2-2p1c-noclose|-DNOCLOSE -DCAP=2 -DNP=2 -DNC=1 -DNV=2"
  "fast-cap1-2p2c-cancel|-DNOCLOSE -DCAP=1 -DNP=2 -DNC=2 -DNV=1 -DCANCELP=1 -DCANCELC=1"
  "fast-cap1-2p1c-offq1-cancel|-DNOCLOSE -DLEAVE=1 -DCAP=1 -DOFFQ=1 -DNP=2 -DNC=1 -DNV=2 -DCANCELP=2"
  "fast-cap1-2p2c-early-close|-DCAP=1 -DNP=2 -DNC=2 -DNV=1 -DRCLOSE=3 -DCANCELP=1"
  "fast-cap1-2p2c-spin-early-close|-DCAP=1 -DNP=2 -DNC=2 -DNV=1 -DRCLOSE=3 -DSPINP=1 -DCANCELP=2"
  "fast-cap1-2p1c-spin-noclose-leave|-DNOCLOSE -DLEAVE=1 -DCAP=1 -DNP=2 -DNC=1 -DNV=2 -DSPINP=3"
)
# Mutations the fast configurations must catch (run with --fast-mutations): each removes one
# half of a Dekker pair, or SLOW itself. (-DNO_SLOW_RECHECK, the full sender's second look
# after setting SLOW, is no longer a bug on its own: the sender's look for room after arming,
# the fourth pair, covers the same race; the model stays correct without it, so it is not listed.)
FAST_MUTATIONS=(
  "mut-no-recheck-recv|-DNOCLOSE -DCAP=1 -DNP=2 -DNC=1 -DNV=2 -DNO_RECHECK_RECV"
  "mut-no-slow-read|-DNOCLOSE -DLEAVE=1 -DCAP=1 -DNP=2 -DNC=1 -DNV=2 -DNO_SLOW_READ"
  "mut-no-slow|-DNOCLOSE -DCAP=1 -DNP=2 -DNC=1 -DNV=2 -DNO_SLOW"
  "mut-no-arm-recheck|-DNOCLOSE -DCAP=1 -DNP=2 -DNC=1 -DNV=2 -DNO_ARM_RECHECK"
  "mut-no-room-recheck|-DNOCLOSE -DLEAVE=1 -DCAP=1 -DNP=2 -DNC=1 -DNV=2 -DNO_ROOM_RECHECK"
)

# Mutations of the size-0 lock-free slot (ring.pml with ZP; src/shared/zero-slot.ts), run with
# --zslot-mutations: each removes one half of its Dekker pair, or Z4. ZNOGIVEUP: the slot's
# sender spins until taken, so a lost wake-up is a deadlock rather than a delay until it
# withdraws and sends through the lock (the faithful model passes those configurations too).
ZSLOT_MUTATIONS=(
  "zmut-no-arm-recheck|-DSIMPLE_LOCK -DZMUT_NO_ARM_RECHECK -DZNOGIVEUP -DCAP=0 -DNP=1 -DNC=2 -DNV=2 -DZP=1 -DRCLOSE=2 -DCANCELP=0 -DCANCELC=1"
  "zmut-no-waiter-read|-DSIMPLE_LOCK -DZMUT_NO_WAITER_READ -DZNOGIVEUP -DCAP=0 -DNP=1 -DNC=2 -DNV=2 -DZP=1 -DNCANCEL=0"
  "zmut-take-promised|-DSIMPLE_LOCK -DZMUT_TAKE_PROMISED -DCAP=0 -DNP=2 -DNC=2 -DNV=1 -DZP=1 -DNCANCEL=0"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run_one() { # name defines [model]
  local name="$1" model="${3:-ring.pml}" d="$work/$1"
  local defs="$2"
  [ "$model" = ring.pml ] && defs="$defs $extra"
  [ "$model" = select.pml ] && defs="$defs $selmut"
  mkdir -p "$d" && cp "$here/$model" "$d/"
  (
    cd "$d"
    spin -a $defs "$model" >spin.out 2>&1 || { echo "spin -a failed" >>spin.out; exit 0; }
    # 6000 MB each, two at a time, on a 24 GiB machine: fast-cap1-2p2c-cancel needs ~3.3 GB
    # since the third Dekker pair (fast-slots.ts: senders bump only armed receivers).
    gcc -O2 -w -DSAFETY -DCOLLAPSE -DMEMLIM=6000 -o pan pan.c >gcc.out 2>&1 || { echo "gcc failed" >>spin.out; exit 0; }
    ./pan -m100000 >pan.out 2>&1 || true
    if ! grep -q 'errors: 0' pan.out; then
      # the shortest counterexample (breadth-first), for a readable scenario
      gcc -O2 -w -DSAFETY -DBFS -DMEMLIM=3000 -o pan-bfs pan.c >>gcc.out 2>&1 && ./pan-bfs -m100000 >pan-bfs.out 2>&1 || true
      spin -t $defs "$model" 2>&1 | grep -E 'MSC:|proc .*\.pml|= ' >trail.txt || true
    fi
  )
}

start=$(date +%s)
pids=()
names=()
all=()
for c in "${CONFIGS[@]}"; do all+=("$c|ring.pml"); done
for c in "${SYNC_CONFIGS[@]}"; do all+=("$c|sync.pml"); done
if [ "$variant" = fast-mutations ]; then
  all=()
  for c in "${FAST_MUTATIONS[@]}"; do all+=("$c|fast.pml"); done
elif [ "$variant" = zslot-mutations ]; then
  extra="-DFIXED"
  all=()
  for c in "${ZSLOT_MUTATIONS[@]}"; do all+=("$c|ring.pml"); done
else
  for c in "${SELECT_CONFIGS[@]}"; do all+=("$c|select.pml"); done
  for c in "${FAST_CONFIGS[@]}"; do all+=("$c|fast.pml"); done
fi
for c in "${all[@]}"; do
  name="${c%%|*}" rest="${c#*|}"
  defs="${rest%%|*}" model="${rest##*|}"
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  names+=("$name")
  run_one "$name" "$defs" "$model" &
  pids+=($!)
  # two at a time (2 cores)
  if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
[ "${#names[@]}" -gt 0 ] || { echo "run-spin.sh: no configuration named $only" >&2; exit 2; }

total_states=0
total_errors=0
for name in "${names[@]}"; do
  d="$work/$name"
  states=$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$d/pan.out" 2>/dev/null | head -1)
  errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$d/pan.out" 2>/dev/null | head -1)
  states=${states:-0}
  errors=${errors:-1}
  note=""
  if grep -q 'reached -DMEMLIM bound\|max search depth too small' "$d/pan.out" 2>/dev/null; then
    errors=$((errors + 1)); note=" (search incomplete: memory or depth bound)"
  fi
  if grep -q 'failed' "$d/spin.out" 2>/dev/null; then
    errors=$((errors + 1)); note=" (build failed)"; sed 's/^/    /' "$d/spin.out" "$d/gcc.out" 2>/dev/null | head -20
  fi
  kind=""
  grep -q 'pan:1: invalid end state' "$d/pan.out" 2>/dev/null && kind=" invalid end state (a waiter parked forever)"
  grep -q 'pan:1: assertion violated' "$d/pan.out" 2>/dev/null && kind=" $(grep -m1 'assertion violated' "$d/pan.out")"
  printf '  %-28s %10s states  %s errors%s%s\n' "$name" "$states" "$errors" "$note" "$kind"
  if [ "$errors" != 0 ] && [ -s "$d/trail.txt" ]; then
    echo "    counterexample (spin -t; results: 0 DONE 1 OFFERED 2 WAIT 3 BROKEN 4 WOULD_BLOCK 5 END 6 HANDED;"
    echo "    futex 2 SEQ_SEND 3 SEQ_RECV; pids: 1..NP producers P0.., then consumers C0..):"
    sed 's/^ */      /' "$d/trail.txt" | head -60
  fi
  total_states=$((total_states + states))
  total_errors=$((total_errors + errors))
done
if [ "$variant" = fast-mutations ] || [ "$variant" = zslot-mutations ]; then
  caught=0
  for name in "${names[@]}"; do
    e=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$work/$name/pan.out" 2>/dev/null | head -1)
    [ "${e:-0}" != 0 ] && caught=$((caught + 1))
  done
  echo "spin: $variant: $caught of ${#names[@]} caught"
  [ "$caught" -eq "${#names[@]}" ]
  exit
fi
echo "spin: ring.pml + sync.pml + select.pml + fast.pml ($variant, ${#names[@]} configurations, $(( $(date +%s) - start ))s): $total_states states, $total_errors errors"
[ "$total_errors" -eq 0 ]
