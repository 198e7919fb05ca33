"""Python asyncio as an outside reference for loopwork's suites 1, 2, 3 and 7.

Prints one BENCH_RESULT line of JSON per suite, in the shape bench/run.ts collects. Same
sizes and the same method as the TypeScript suites: warm-up rounds, then the median.
"""
import asyncio
import gc
import json
import statistics
import sys
import time
import tracemalloc

RESULT_MARK = "BENCH_RESULT "
RUNTIME = f"Python {sys.version.split()[0]} asyncio"


def emit(suite, title, name, value, unit, higher=False):
    entry = {"name": name, "value": value, "unit": unit, "higherIsBetter": higher}
    print(f"  {suite}: {name}: {value:.2f} {unit}", file=sys.stderr)
    print(RESULT_MARK + json.dumps({"suite": suite, "title": title, "runtime": RUNTIME, "entries": [entry]}))


def time_median(make, rounds=7, warmup=2):
    for _ in range(warmup):
        asyncio.run(make())
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        asyncio.run(make())
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def trivial():
    return 1


async def spawn_all(n=100_000):
    tasks = [asyncio.create_task(trivial()) for _ in range(n)]
    for t in tasks:
        await t


async def ping_pong(steps=1_000_000):
    loop = asyncio.get_running_loop()
    half = steps // 2
    box = {"a": loop.create_future(), "b": loop.create_future()}

    async def server():
        for i in range(half):
            box["b"].set_result(i)
            await box["a"]
            box["a"] = loop.create_future()

    async def client():
        for i in range(half):
            await box["b"]
            box["b"] = loop.create_future()
            if i < half - 1:
                box["a"].set_result(i)

    tb = asyncio.create_task(client())
    ta = asyncio.create_task(server())
    await tb
    ta.cancel()
    try:
        await ta
    except asyncio.CancelledError:
        pass


async def parked(n=100_000):
    loop = asyncio.get_running_loop()
    never = loop.create_future()

    async def park():
        await never

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(park()) for _ in range(n)]
    await asyncio.sleep(0)
    gc.collect()
    per = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    never.set_result(None)
    await asyncio.gather(*tasks)
    return per


async def group_cancel(n=10_000):
    never = asyncio.get_running_loop().create_future()

    async def wait_forever():
        await never

    async def fail_soon():
        await asyncio.sleep(0)
        raise RuntimeError("child failed")

    try:
        async with asyncio.TaskGroup() as tg:
            for _ in range(n - 1):
                tg.create_task(wait_forever())
            tg.create_task(fail_soon())
    except* RuntimeError:
        pass


async def sleeps(n=10_000, ms=200):
    await asyncio.gather(*(asyncio.sleep(ms / 1000) for _ in range(n)))


def main():
    emit("spawn", "spawn + await 100k trivial tasks", "Python asyncio", time_median(spawn_all), "ms")
    emit("switch", "1M switches between two tasks", "Python asyncio",
         1_000_000 / time_median(ping_pong, 3, 1) / 1000, "M/s", higher=True)
    emit("memory", "memory per suspended task (100k parked)", "Python asyncio (tracemalloc)",
         min(asyncio.run(parked()) for _ in range(3)), "B")
    emit("group", "task group of 10k children, one fails: time to cancel all", "Python asyncio TaskGroup",
         time_median(group_cancel), "ms")
    emit("sleeps", "10k concurrent 200 ms sleeps (ideal: 200 ms)", "Python asyncio", time_median(sleeps, 5, 1), "ms")


if __name__ == "__main__":
    main()
