"""How fast Partsbot handles events end to end (router + transaction + outbox + delivery).

Prints events per second and latency percentiles for a few real flows, and the ratio against a baseline
measured in the same run: a bare database transaction that writes and deletes one row (the floor every
event pays). Run: ``make bench`` (SQLite, plus PostgreSQL when PARTSBOT_BENCH_POSTGRES_URL or the local
server on 127.0.0.1:5432 answers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import create_engine, select, text

from bot.chat.model import Actor, Command, Form, Message, Place, Platform, Reply
from bot.core import Partsbot
from bot.schema import metadata
from bot.settings import Settings, normalise_database_url
from bot.storage.db import Database
from bot.storage.models import KeyValue, PostedMessage
from handlers import build_router


class NullMessenger:
    """A platform that answers instantly, so the figures show Partsbot's own cost."""

    platform: Platform = "slack"

    def __init__(self) -> None:
        self.sent = 0

    async def post(self, place: Place, reply: Reply) -> str:
        self.sent += 1
        return f"{time.time():.6f}.{self.sent}"

    async def update(self, place: Place, message_id: str, reply: Reply) -> None:
        self.sent += 1

    async def post_private(self, place: Place, user_id: str, reply: Reply) -> None:
        self.sent += 1

    async def post_direct(self, workspace: str, user_id: str, reply: Reply) -> None:
        self.sent += 1

    async def open_form(self, place: Place, user_id: str, form: Form, trigger_id: str | None) -> None:
        self.sent += 1


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def timed(n: int, step: Callable[[int], Awaitable[object]]) -> list[float]:
    latencies = []
    for i in range(n):
        start = time.perf_counter()
        await step(i)
        latencies.append(time.perf_counter() - start)
    return latencies


def report(name: str, latencies: list[float], baseline: float) -> None:
    mean = statistics.fmean(latencies)
    print(
        f"  {name:<36} {len(latencies) / sum(latencies):8.0f}/s"
        f"   p50 {percentile(latencies, 50) * 1000:6.2f} ms"
        f"   p95 {percentile(latencies, 95) * 1000:6.2f} ms   × baseline {mean / baseline:5.1f}"
    )


async def run(url: str, n: int) -> None:
    db = Database(url)
    metadata().create_all(db.engine)
    bot = Partsbot(Settings(database_url=url, env="test"), db, build_router())
    messenger = NullMessenger()
    bot.add_messenger(messenger)
    place = Place("slack", "T-bench", "C-bench")

    def floor(i: int) -> None:
        with db.transaction() as session:
            session.add(KeyValue(key=f"bench-{i}", value="x"))
        with db.transaction() as session:
            row = session.get(KeyValue, f"bench-{i}")
            if row is not None:
                session.delete(row)

    async def baseline_step(i: int) -> None:
        await asyncio.to_thread(floor, i)

    baseline = statistics.fmean(await timed(n, baseline_step))
    print(f"{db.engine.dialect.name}: baseline (one write + one delete transaction) {baseline * 1000:.2f} ms")

    async def set_role(i: int) -> None:
        await bot.handle(Command(Actor(f"U{i % 50}", f"Person {i % 50}"), place, "rolle", "ansatt"))

    report("/parts rolle (50 people)", await timed(n, set_role), baseline)

    async def show_help(i: int) -> None:
        await bot.handle(Command(Actor(f"U{i % 50}"), place, "hjelp"))

    report("/parts hjelp", await timed(n, show_help), baseline)

    await bot.handle(Command(Actor("U0"), place, "roller"))
    with db.transaction() as session:
        root = session.scalars(select(PostedMessage).where(PostedMessage.key.like("roles:%:head"))).one()
        thread = place.in_thread(root.message_id)

    async def answer(i: int) -> None:
        await bot.handle(Message(Actor(f"U{i % 50}"), thread, f"Svar nummer {i}"))

    report("roles answer in thread (+update)", await timed(n, answer), baseline)

    async def burst(_: int) -> None:
        await asyncio.gather(
            *(bot.handle(Command(Actor(f"U{k}"), place, "rolle", "ansatt")) for k in range(20))
        )

    latencies = await timed(max(1, n // 20), burst)
    per_event = [x / 20 for x in latencies]
    report("20 concurrent /parts rolle (per ev.)", per_event, baseline)
    db.dispose()


def postgres_url() -> str | None:
    url = os.environ.get("PARTSBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        engine = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
        name = f"partsbot_bench_{uuid.uuid4().hex[:8]}"
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return normalise_database_url(url).rsplit("/", 1)[0] + f"/{name}"
    except Exception as exc:  # any failure means "no PostgreSQL here"
        print(f"postgresql: skipped ({str(exc).splitlines()[0]})")
        return None


def drop(url: str) -> None:
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=300, help="events per scenario")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args.n))
    url = postgres_url()
    if url:
        try:
            asyncio.run(run(url, args.n))
        finally:
            drop(url)


if __name__ == "__main__":
    main()
