"""chan_of_chan: the seed's channel of channels, C channels x M items.

usage: chan_of_chan.py <channels> <items-per-channel>

number_producer/channel_producer/main are the seed essay's Trio program, with
channel c carrying c*M + 0 .. c*M + M-1 so the runner can check every item.
"""
import trio

from common import OrderCheck, emit, int_arg, now_ns


async def number_producer(nursery, base, m):
    s, r = trio.open_memory_channel(0)

    async def _():
        async with s:
            for i in range(m):
                await s.send(base + i)

    nursery.start_soon(_)
    return r


async def channel_producer(nursery, c, m):
    s, r = trio.open_memory_channel(0)

    async def _():
        async with s:
            for k in range(c):
                ch = await number_producer(nursery, k * m, m)
                await s.send(ch)

    nursery.start_soon(_)
    return r


async def consume(c, m):
    check = OrderCheck(c, m)
    async with trio.open_nursery() as nursery:
        ch_of_ch = await channel_producer(nursery, c, m)
        async with ch_of_ch:
            async for ch in ch_of_ch:
                async with ch:
                    async for num in ch:
                        check.see(num)
    return check


async def main(c, m):
    await consume(max(1, c // 10), m)  # warm-up, untimed
    t0 = now_ns()
    check = await consume(c, m)
    elapsed = now_ns() - t0
    emit("chan_of_chan", "python-trio", "ns_per_item", elapsed / (c * m), "ns", check.checksum(), f"{c}x{m}")


if __name__ == "__main__":
    trio.run(main, int_arg(1, "channels"), int_arg(2, "items-per-channel"))
