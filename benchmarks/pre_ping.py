"""What a pool pre-ping costs: one checkout plus one query, with and without it.

Run with the Python of a PostgreSQL bake (it needs SQLAlchemy and asyncpg):
`<bake>/.venv/bin/python benchmarks/pre_ping.py [postgresql+asyncpg://postgres@127.0.0.1/postgres]`.
It prints wall-clock and CPU microseconds per checkout for a few alternating rounds.
"""

import asyncio
import sys
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
CHECKOUTS = 2000
ROUNDS = 3


async def per_checkout(url: str, *, pre_ping: bool) -> tuple[float, float]:
    engine = create_async_engine(url, pool_pre_ping=pre_ping, pool_size=1)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(CHECKOUTS):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await engine.dispose()
    return wall / CHECKOUTS * 1e6, cpu / CHECKOUTS * 1e6


async def main(url: str) -> None:
    for round_number in range(ROUNDS):
        for pre_ping in (False, True):
            wall, cpu = await per_checkout(url, pre_ping=pre_ping)
            print(
                f"round {round_number} pre_ping={pre_ping!s:5}: "
                f"{wall:6.0f} µs wall, {cpu:5.0f} µs CPU per checkout and query"
            )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL))
