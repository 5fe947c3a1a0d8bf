"""End-to-end benchmark of ``partsbot serve`` beside anchors measured in the same run (issue #11).

Every server runs as its own process on 127.0.0.1 and talks to a fake platform in this process; a command
counts as answered when its answer reaches the person: in the command's acknowledgement (Slack shows an
ack's body to the person at once), or when it reaches the fake (ephemeral message, response_url, Teams
reply). The load comes from ten known people per channel (:class:`People`): each person's first contact is
made once before the figures and measured as a figure of its own. Anchors:

* ``bare``    – a slack-bolt app that acknowledges and posts one ephemeral message (bench/anchors/bare_slack.py)
* ``durable`` – the same, but it first writes the command to the same database in one transaction: the
  floor for a bot that must not lose acknowledged work; Partsbot's targets are ratios to this one
* ``botbuilder`` – a bare botbuilder bot answering each message once (bench/anchors/bare_teams.py)

Figures: throughput of answered commands (closed loop, many channels) and the server's CPU time per
answered command (steadier than rates on a shared machine); end-to-end p50/p99 at half the durable app's
throughput (open loop), and for Partsbot also at half its own throughput (not a target: the latency of a
server that is not overloaded); a burst of 20 ``/parts hjelp`` in one channel (every private answer); RSS
after the load. The machine's load average is printed at the start and the end. Run: ``make bench``
(SQLite, and PostgreSQL when the local server answers); ``bench/profile_serve.py`` profiles the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (
    CHANNELS,
    OTHER_COMMAND,
    ROOT,
    FakePlatforms,
    People,
    Server,
    Slack,
    Teams,
    burst,
    free_port,
    introduce,
    paced,
    partsbot,
    percentile,
    slack_env,
    throughput,
)

# The run ------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    throughput: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    burst_max: float = 0.0
    burst_p99: float = 0.0
    rss: float = 0.0
    cpu_ms: float = 0.0  # server CPU per answered command in the throughput run
    own_rate: float = 0.0  # half of its own throughput, and the latencies there
    own_p50: float = 0.0
    own_p99: float = 0.0
    first_contacts: float = 0.0  # first contacts per second (each person's first command)
    first_cpu_ms: float = 0.0
    other: float = 0.0  # Slack, Partsbot only: throughput of another command (OTHER_COMMAND)
    other_cpu_ms: float = 0.0


async def measure(
    load: Slack | Teams,
    server: Server,
    session: aiohttp.ClientSession,
    log_dir: Path,
    n: int,
    rate: float | None,
    own: bool = False,
) -> Figures:
    send = load.command
    await server.start(session, log_dir)
    try:
        for _ in range(20):  # warm up: imports, connections
            await send(server, "CWARM")
        cpu = server.cpu_seconds()
        figures = Figures(first_contacts=await introduce(send, load.people, server))
        figures.first_cpu_ms = (server.cpu_seconds() - cpu) * 1000 / (len(CHANNELS) * People.PER_CHANNEL + 20)
        cpu = server.cpu_seconds()
        figures.throughput = await throughput(send, server, n)
        figures.cpu_ms = (server.cpu_seconds() - cpu) * 1000 / n
        if rate:
            latencies = await paced(send, server, rate, max(50, int(rate * 4)))
            figures.p50, figures.p99 = percentile(latencies, 50), percentile(latencies, 99)
        if own:
            # Not a target: what one command waits when the server is not overloaded.
            figures.own_rate = figures.throughput / 2
            latencies = await paced(send, server, figures.own_rate, max(50, int(figures.own_rate * 4)))
            figures.own_p50, figures.own_p99 = percentile(latencies, 50), percentile(latencies, 99)
        if own and isinstance(load, Slack):
            # Not a target: a command whose answer is not built once per language (help is), so the figure
            # shows what a command that queries the database costs.
            cpu = server.cpu_seconds()
            figures.other = await throughput(
                lambda server_, channel: load.command(server_, channel, text=OTHER_COMMAND), server, n
            )
            figures.other_cpu_ms = (server.cpu_seconds() - cpu) * 1000 / n
        burst_latencies = await burst(send, server)
        figures.burst_max, figures.burst_p99 = max(burst_latencies), percentile(burst_latencies, 99)
        figures.rss = server.rss_mb()
        return figures
    finally:
        server.stop()


def line(what: str, ours: float, anchor: float, anchor_name: str, unit: str, target: str, digits: int = 1) -> None:
    ratio = ours / anchor if anchor else float("nan")
    print(
        f"  {what:<34} {ours:9.{digits}f} {unit:<5} {anchor_name:<11} {anchor:9.{digits}f} {unit:<5} "
        f"ratio {ratio:5.2f}  {target}"
    )


async def run_slack(fake: FakePlatforms, label: str, database_url: str, n: int, log_dir: Path) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
        slack = Slack(fake, session)
        env = slack_env(fake.url)
        anchors = ROOT / "bench" / "anchors" / "bare_slack.py"
        bare = Server("bare", [sys.executable, str(anchors), "--port", "{port}"], env)
        bare_fig = await measure(slack, bare, session, log_dir, n, None)
        durable_url = database_url.replace(".sqlite3", "-durable.sqlite3")
        durable = Server("durable", [sys.executable, str(anchors), "--port", "{port}", "--durable", durable_url], env)
        durable_fig = await measure(slack, durable, session, log_dir, n, None)
        rate = durable_fig.throughput / 2
        # The anchor's latency at half its own throughput, measured again with the open loop.
        durable_again = Server("durable2", durable.argv, env)
        durable_fig = await measure(slack, durable_again, session, log_dir, n, rate)
        ours = partsbot("partsbot-slack", database_url, env, fake.url)
        fig = await measure(slack, ours, session, log_dir, n, rate, own=True)
    print(f"Slack on {label} ({n} commands from the {People.PER_CHANNEL} people of each of 50 channels, 16 at a time):")
    line("throughput (answered/s)", fig.throughput, durable_fig.throughput, "durable", "/s", "target ≥ 0.8")
    line("  bare bolt app", bare_fig.throughput, durable_fig.throughput, "durable", "/s", "(anchor)")
    line("server CPU per command (ms)", fig.cpu_ms, durable_fig.cpu_ms, "durable", "ms", f"(bare {bare_fig.cpu_ms:.2f} ms)", 2)
    line(f"p50 at {rate:.0f}/s (ms)", fig.p50 * 1000, durable_fig.p50 * 1000, "durable", "ms", "target ≤ 2")
    line(f"p99 at {rate:.0f}/s (ms)", fig.p99 * 1000, durable_fig.p99 * 1000, "durable", "ms", "target ≤ 3")
    own = f"at {fig.own_rate:.0f}/s (half its own)"
    line(f"  p50 {own}", fig.own_p50 * 1000, durable_fig.p50 * 1000, "durable", "ms", f"(anchor at {rate:.0f}/s)")
    line(f"  p99 {own}", fig.own_p99 * 1000, durable_fig.p99 * 1000, "durable", "ms", f"(anchor at {rate:.0f}/s)")
    line("burst of 20, slowest answer (ms)", fig.burst_max * 1000, bare_fig.burst_max * 1000, "bare", "ms", "target < 1000 ms")
    line("burst of 20, p99 (ms)", fig.burst_p99 * 1000, bare_fig.burst_p99 * 1000, "bare", "ms", "target ≤ 3")
    line("RSS after the load (MB)", fig.rss, durable_fig.rss, "durable", "MB", "target ≤ 1.5")
    line("first contacts (/s)", fig.first_contacts, durable_fig.first_contacts, "durable", "/s", f"(users.info, new member; CPU {fig.first_cpu_ms:.2f} ms each)")
    line(f"/parts {OTHER_COMMAND} (/s)", fig.other, durable_fig.throughput, "durable", "/s", f"(not a target; CPU {fig.other_cpu_ms:.2f} ms each)")


async def run_teams(fake: FakePlatforms, database_url: str, n: int, log_dir: Path) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
        teams = Teams(fake, session)
        anchor = Server("botbuilder", [sys.executable, str(ROOT / "bench" / "anchors" / "bare_teams.py"), "--port", "{port}"], {})
        anchor_fig = await measure(teams, anchor, session, log_dir, n, None)
        rate = anchor_fig.throughput / 2
        anchor_again = Server("botbuilder2", anchor.argv, {})
        anchor_fig = await measure(teams, anchor_again, session, log_dir, n, rate)
        ours = partsbot("partsbot-teams", database_url, {"PARTSBOT_TEAMS": "1"}, fake.url)
        fig = await measure(teams, ours, session, log_dir, n, rate, own=True)
    print(f"Teams on SQLite ({n} personal messages, 16 at a time):")
    line("throughput (answered/s)", fig.throughput, anchor_fig.throughput, "botbuilder", "/s", "")
    line("server CPU per message (ms)", fig.cpu_ms, anchor_fig.cpu_ms, "botbuilder", "ms", "", 2)
    line(f"p50 at {rate:.0f}/s (ms)", fig.p50 * 1000, anchor_fig.p50 * 1000, "botbuilder", "ms", "")
    line(f"p99 at {rate:.0f}/s (ms)", fig.p99 * 1000, anchor_fig.p99 * 1000, "botbuilder", "ms", "")
    own = f"at {fig.own_rate:.0f}/s (half its own)"
    line(f"  p50 {own}", fig.own_p50 * 1000, anchor_fig.p50 * 1000, "botbuilder", "ms", f"(anchor at {rate:.0f}/s)")
    line(f"  p99 {own}", fig.own_p99 * 1000, anchor_fig.p99 * 1000, "botbuilder", "ms", f"(anchor at {rate:.0f}/s)")
    line("burst of 20, slowest answer (ms)", fig.burst_max * 1000, anchor_fig.burst_max * 1000, "botbuilder", "ms", "")
    line("RSS after the load (MB)", fig.rss, anchor_fig.rss, "botbuilder", "MB", "")
    line("first contacts (/s)", fig.first_contacts, anchor_fig.first_contacts, "botbuilder", "/s", f"(CPU {fig.first_cpu_ms:.2f} ms each)")


def postgres_database() -> str | None:
    url = os.environ.get("PARTSBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        name = f"partsbot_bench_{uuid.uuid4().hex[:8]}"
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return url.rsplit("/", 1)[0] + f"/{name}"
    except Exception as exc:  # no PostgreSQL here
        print(f"PostgreSQL: skipped ({str(exc).splitlines()[0]})")
        return None


def drop(url: str) -> None:
    admin = create_engine(
        url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


async def main_async(
    n: int, skip_postgres: bool, skip_teams: bool, skip_slack: bool = False, skip_sqlite: bool = False
) -> None:
    fake = FakePlatforms()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory(prefix="partsbot-bench-") as folder:
            log_dir = Path(folder)
            if not skip_slack and not skip_sqlite:
                await run_slack(fake, "SQLite", f"sqlite:///{log_dir / 'slack.sqlite3'}", n, log_dir)
            if not skip_slack and not skip_postgres and (url := postgres_database()):
                try:
                    await run_slack(fake, "PostgreSQL", url, n, log_dir)
                finally:
                    drop(url)
            if not skip_teams:
                await run_teams(fake, f"sqlite:///{log_dir / 'teams.sqlite3'}", n, log_dir)
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="commands per throughput run")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-teams", action="store_true")
    parser.add_argument("--no-slack", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="Slack on PostgreSQL only")
    args = parser.parse_args()
    started = time.perf_counter()
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)")
    asyncio.run(main_async(args.n, args.no_postgres, args.no_teams, args.no_slack, args.no_sqlite))
    load = os.getloadavg()
    print(f"(bench took {time.perf_counter() - started:.0f} s; load average at the end {load[0]:.1f}; ratios are ours / anchor)")


if __name__ == "__main__":
    main()
