"""seed_producer_{unbuffered,buffered}: the seed's producer -> consumer, N integers.

usage: seed_producer.py <buffer> <n>      (buffer 0 = unbuffered, 1024 = buffered)

The producer and main() are the seed essay's Trio program with print() replaced
by a running sum; the time covers opening the nursery to its close.
"""
import trio

from common import OrderCheck, emit, int_arg, now_ns


async def producer(nursery, n, buffer):
    s, r = trio.open_memory_channel(buffer)

    async def _():
        async with s:
            for i in range(n):
                await s.send(i)

    nursery.start_soon(_)
    return r


async def consume(n, buffer):
    check = OrderCheck(1, n)
    async with trio.open_nursery() as nursery:
        r = await producer(nursery, n, buffer)
        async with r:
            async for x in r:
                check.see(x)
    return check


async def main(n, buffer):
    await consume(max(1, n // 10), buffer)  # warm-up, untimed
    t0 = now_ns()
    check = await consume(n, buffer)
    elapsed = now_ns() - t0
    name = "seed_producer_unbuffered" if buffer == 0 else "seed_producer_buffered"
    emit(name, "python-trio", "ns_per_item", elapsed / n, "ns", check.checksum(), str(n))


if __name__ == "__main__":
    import sys
    buffer = int(sys.argv[1]) if len(sys.argv) > 1 else -1
    if buffer < 0:
        sys.exit("usage: seed_producer.py <buffer> <n>")
    trio.run(main, int_arg(2, "n"), buffer)
