"""fan_in: 4 producers -> 1 consumer over one buffered channel (1024), N items in all.

usage: fan_in.py <n>     (n is rounded down to a multiple of 4)

Producer p sends p*Q + 0 .. p*Q + Q-1 (Q = N/4) on its own clone of the send
channel; the consumer checks each producer's values arrive in order.
"""
import trio

from common import OrderCheck, emit, int_arg, now_ns

PRODUCERS = 4
BUFFER = 1024


async def producer(s, base, q):
    async with s:
        for i in range(q):
            await s.send(base + i)


async def consume(q):
    check = OrderCheck(PRODUCERS, q)
    async with trio.open_nursery() as nursery:
        s, r = trio.open_memory_channel(BUFFER)
        async with s:
            for p in range(PRODUCERS):
                nursery.start_soon(producer, s.clone(), p * q, q)
        async with r:
            async for x in r:
                check.see(x)
    return check


async def main(n):
    q = n // PRODUCERS
    await consume(max(1, q // 10))  # warm-up, untimed
    t0 = now_ns()
    check = await consume(q)
    elapsed = now_ns() - t0
    emit("fan_in", "python-trio", "ns_per_item", elapsed / (q * PRODUCERS), "ns", check.checksum(), str(q * PRODUCERS))


if __name__ == "__main__":
    trio.run(main, int_arg(1, "n"))
