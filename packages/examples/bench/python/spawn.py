"""spawn: start and join N trivial tasks in a nursery.

usage: spawn.py <n>

Task i adds i to a shared total; the checksum is "N:sum".
"""
import trio

from common import emit, int_arg, now_ns


async def run_tasks(n):
    state = [0, 0]

    async def trivial(i):
        state[0] += 1
        state[1] += i

    async with trio.open_nursery() as nursery:
        for i in range(n):
            nursery.start_soon(trivial, i)
    return f"{state[0]}:{state[1]}"


async def main(n):
    await run_tasks(max(1, n // 10))  # warm-up, untimed
    t0 = now_ns()
    checksum = await run_tasks(n)
    elapsed = now_ns() - t0
    emit("spawn", "python-trio", "ns_per_task", elapsed / n, "ns", checksum, str(n))


if __name__ == "__main__":
    trio.run(main, int_arg(1, "n"))
