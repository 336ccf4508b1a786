"""cpu_parallel: K producers count primes by trial division in disjoint shares of
[0, K*R) and send their counts to one consumer.

usage: cpu_parallel.py <tasks|threads> <K> <range-per-producer> <block> <pairs>

The numbers [0, K*R) are cut into blocks of <block> numbers, dealt round-robin:
producer k counts blocks k, k+K, k+2K, ... (the same split as the gotrio and Go
programs). Two forms:
  tasks   -> K plain Trio tasks (impl python-trio): they take turns on one thread.
  threads -> K trio.to_thread.run_sync calls (impl python-trio-threads): real OS
             threads, but the GIL lets only one run Python bytecode at a time.
The one-thread baseline (the same K shares in a plain loop) runs in the same
process just before each parallel run: <pairs> such (baseline, parallel) pairs,
reported as the median pair's speed-up (baseline seconds / parallel seconds) and
the median parallel seconds, as the gotrio and Go programs do.
"""
import statistics
import sys

import trio

from common import emit, int_arg, now_ns


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def count_primes(lo, hi):
    c = 0
    for n in range(lo, hi):
        if is_prime(n):
            c += 1
    return c


def count_primes_in_blocks(first, step, limit, block):
    """The primes in blocks first, first+step, first+2*step, ... below limit."""
    c = 0
    for lo in range(first * block, limit, step * block):
        c += count_primes(lo, min(lo + block, limit))
    return c


async def producer_task(s, first, step, limit, block):
    async with s:
        await s.send(count_primes_in_blocks(first, step, limit, block))


async def producer_thread(s, first, step, limit, block):
    async with s:
        await s.send(await trio.to_thread.run_sync(count_primes_in_blocks, first, step, limit, block))


async def parallel(form, k, r, block):
    total = 0
    async with trio.open_nursery() as nursery:
        s, rx = trio.open_memory_channel(0)
        async with s:
            for i in range(k):
                fn = producer_task if form == "tasks" else producer_thread
                nursery.start_soon(fn, s.clone(), i, k, k * r, block)
        async with rx:
            async for c in rx:
                total += c
    return total


async def main(form, k, r, block, pairs):
    impl = "python-trio" if form == "tasks" else "python-trio-threads"
    await parallel(form, k, max(1, r // 100), block)  # warm-up (starts the thread cache), untimed
    speedups, seconds = [], []
    par_total = 0
    for _ in range(pairs):
        t0 = now_ns()
        seq_total = sum(count_primes_in_blocks(i, k, k * r, block) for i in range(k))
        t1 = now_ns()
        par_total = await parallel(form, k, r, block)
        t2 = now_ns()
        if seq_total != par_total:
            sys.exit(f"one-thread count {seq_total} != parallel count {par_total}")
        speedups.append((t1 - t0) / (t2 - t1))
        seconds.append((t2 - t1) / 1e9)
    size = f"{k}x{r}/{block}"
    emit("cpu_parallel", impl, "seconds", statistics.median(seconds), "s", str(par_total), size)
    emit("cpu_parallel", impl, "speedup", statistics.median(speedups), "x", str(par_total), size)


if __name__ == "__main__":
    form = sys.argv[1] if len(sys.argv) > 1 else ""
    if form not in ("tasks", "threads"):
        sys.exit("usage: cpu_parallel.py <tasks|threads> <K> <range-per-producer> <block> <pairs>")
    trio.run(main, form, int_arg(2, "K"), int_arg(3, "range-per-producer"), int_arg(4, "block"), int_arg(5, "pairs"))
