"""Shared helpers for the Python/Trio benchmark programs.

Every program prints one JSON line per metric on stdout and nothing else:
{"benchmark", "impl", "metric", "value", "unit", "checksum", "size"}.
The runner (bench/run.ts) recomputes the checksum independently and rejects
any mismatch, so a fast wrong answer never becomes a number in the table.
"""
import json
import sys
import time


def now_ns() -> int:
    return time.perf_counter_ns()


def emit(benchmark: str, impl: str, metric: str, value: float, unit: str, checksum: str, size: str) -> None:
    print(json.dumps({
        "benchmark": benchmark, "impl": impl, "metric": metric, "value": value,
        "unit": unit, "checksum": checksum, "size": size,
    }), flush=True)


def int_arg(index: int, name: str) -> int:
    try:
        value = int(sys.argv[index])
    except (IndexError, ValueError):
        sys.exit(f"usage: {sys.argv[0]} ... <{name}: positive integer> (argument {index})")
    if value <= 0:
        sys.exit(f"{name} must be positive, got {value}")
    return value


class OrderCheck:
    """Sum, count and FIFO check for values that producer p sends as base_p + 0, 1, 2, ...

    `bad` counts values that did not arrive in the order their producer sent them.
    The checksum is "count:sum:bad"; the runner expects "N:N(N-1)/2:0".
    """

    def __init__(self, producers: int, per_producer: int):
        self.per_producer = per_producer
        self.next = [p * per_producer for p in range(producers)]  # next[p]: what producer p sends next
        self.count = 0
        self.total = 0
        self.bad = 0

    def see(self, x: int) -> None:
        p = x // self.per_producer
        if p >= len(self.next) or self.next[p] != x:
            self.bad += 1
        else:
            self.next[p] = x + 1
        self.count += 1
        self.total += x

    def checksum(self) -> str:
        return f"{self.count}:{self.total}:{self.bad}"
