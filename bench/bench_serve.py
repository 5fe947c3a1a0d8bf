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
import collections
import contextlib
import hashlib
import hmac
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret-0123456789abcdef"
TOKEN = "xoxb-bench"
TEAM = "T0BENCH"
TENANT = "5f1c0a6e-0d3b-4c1e-9a57-3c2f0b7d9e11"
TARGETS = {"throughput": 0.8, "p50": 2.0, "p99": 3.0, "rss": 1.5}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


# The fake platforms ---------------------------------------------------------------------------------------


class FakePlatforms:
    """Slack's Web API (+ response_urls) and Bot Connector: records when each request's answer arrived.

    Every request the load sends has its own id. An answer names it directly when it comes in the ack or
    through the request's own response_url; an ephemeral message or a Teams reply names only the person (or
    their conversation), and answers that person's oldest unanswered request."""

    def __init__(self) -> None:
        self.url = ""
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.open_by_person: dict[str, collections.deque[str]] = collections.defaultdict(collections.deque)
        self._ts = itertools.count(1)

    def expect(self, request_id: str, person: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[request_id] = future
        self.open_by_person[person].append(request_id)
        return future

    def answer(self, request_id: str, person: str) -> None:
        now = time.perf_counter()
        waiter = self.waiters.pop(request_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)
        with contextlib.suppress(ValueError):
            self.open_by_person[person].remove(request_id)

    def answer_person(self, person: str) -> None:
        pending = self.open_by_person.get(person)
        if pending:
            self.answer(pending[0], person)

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            body = await request.json()
        else:
            body = dict(await request.post()) if request.method == "POST" else dict(request.query)
        if method == "chat.postEphemeral":
            self.answer_person(str(body.get("user")))
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            ok.update(team_id=TEAM, user_id="UBOT", bot_id="BBOT", team="Bench")
        elif method == "users.info":
            user = str(body.get("user"))
            ok["user"] = {"id": user, "real_name": f"Person {user}", "profile": {"display_name": user}}
        elif method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            ok.update(channel=body.get("channel"), ts=ts, message={"ts": ts})
        elif method == "conversations.open":
            ok["channel"] = {"id": "D" + str(body.get("users", ""))}
        return web.json_response(ok)

    async def response(self, request: web.Request) -> web.Response:
        await request.read()
        self.answer(request.match_info["request"], request.match_info["user"])
        return web.json_response({"ok": True})

    async def connector(self, request: web.Request) -> web.Response:
        body = await request.json()
        conversation = request.match_info.get("conversation", "")
        if request.path.endswith("/v3/conversations"):
            members = body.get("members") or [{}]
            return web.json_response({"id": f"a:personal-{members[0].get('id')}"})
        self.answer_person(conversation.removeprefix("a:personal-"))
        return web.json_response({"id": f"act-{next(self._ts)}"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.api)
        app.router.add_post("/response/{user}/{request}", self.response)
        app.router.add_post("/v3/conversations", self.connector)
        app.router.add_post("/v3/conversations/{conversation}/activities", self.connector)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply}", self.connector)
        return app


# Servers ------------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    async def start(self, session: aiohttp.ClientSession, log_dir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "PARTSBOT_"))}
        env.update(self.env, PORT=str(self.port), PYTHONPATH=str(ROOT))
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        out = (log_dir / f"{self.name}.log").open("wb")
        self.process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log_dir)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} did not start: {(log_dir / f'{self.name}.log').read_text()}")
            try:
                async with session.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in time")

    def rss_mb(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


# Load ---------------------------------------------------------------------------------------------------


class People:
    """Who sends the load: ``PER_CHANNEL`` people in each channel, taking turns (20 in the burst channel).

    A kindergarten's staff is known to the bot: their first contact (``users.info``, their member row) is
    made once, in :func:`introduce`, which is measured as a figure of its own; the throughput, latency and
    burst figures are commands from people the bot knows, as in daily use."""

    PER_CHANNEL = 10

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._turns: dict[str, itertools.cycle[str]] = {}

    def of(self, channel: str) -> list[str]:
        count = 20 if channel == "CBURST" else self.PER_CHANNEL
        return [f"{self.prefix}{channel}{k:02d}" for k in range(count)]

    def next_in(self, channel: str) -> str:
        if channel not in self._turns:
            self._turns[channel] = itertools.cycle(self.of(channel))
        return next(self._turns[channel])


CHANNELS = [f"C{i:04d}" for i in range(50)]
# `/parts rolle` without arguments: the roles of the person's kindergarten, read from the database each time.
OTHER_COMMAND = "rolle"


class Slack:
    """Signed ``/parts hjelp`` commands, each with its own response_url (so each answer is recognisable)."""

    def __init__(self, fake: FakePlatforms, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session
        self.ids = itertools.count(1)
        self.people = People("U")

    async def command(self, server: Server, channel: str, user: str | None = None, text: str = "hjelp") -> float:
        """Send one command; return its end-to-end latency (until the answer reached the person)."""
        user = user or self.people.next_in(channel)
        request_id = f"r{next(self.ids)}"
        form = {
            "team_id": TEAM,
            "channel_id": channel,
            "channel_name": "ansatte",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/parts",
            "text": text,
            "response_url": f"{self.fake.url}/response/{user}/{request_id}",
            "trigger_id": f"t.{request_id}",
        }
        body = urlencode(form)
        ts = str(int(time.time()))
        digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        headers = {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        answered = self.fake.expect(request_id, user)
        start = time.perf_counter()
        async with self.session.post(
            f"http://127.0.0.1:{server.port}/slack/events", data=body, headers=headers
        ) as response:
            raw = await response.read()
            assert response.status == 200, response.status
        if raw and response.content_type == "application/json" and b'"text"' in raw:
            # Answered in the acknowledgement itself: Slack shows it to the person at once.
            self.fake.answer(request_id, user)
        return await asyncio.wait_for(answered, 60) - start


class Teams:
    """Personal ``hjelp`` messages to /api/messages."""

    def __init__(self, fake: FakePlatforms, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session
        self.ids = itertools.count(1)
        self.people = People("29:")
        self.aad: dict[str, str] = {}

    async def command(self, server: Server, channel: str, user: str | None = None) -> float:
        user = user or self.people.next_in(channel)
        activity = {
            "type": "message",
            "id": uuid.uuid4().hex,
            "timestamp": "2026-11-24T09:30:00.000Z",
            "serviceUrl": self.fake.url,
            "channelId": "msteams",
            "from": {"id": user, "name": f"Person {user}", "aadObjectId": self.aad.setdefault(user, uuid.uuid4().hex)},
            "recipient": {"id": "28:bench-bot", "name": "Partsbot"},
            "conversation": {"id": f"a:personal-{user}", "conversationType": "personal", "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "nb-NO",
            "text": "hjelp",
            "textFormat": "plain",
        }
        answered = self.fake.expect(f"r{next(self.ids)}", user)
        start = time.perf_counter()
        async with self.session.post(f"http://127.0.0.1:{server.port}/api/messages", json=activity) as response:
            await response.read()
            assert response.status in (200, 201, 202), response.status
        return await asyncio.wait_for(answered, 60) - start


async def introduce(send: Callable[..., Any], people: People, server: Server, parallel: int = 16) -> float:
    """Every person's first contact (one command each, closed loop): first contacts per second."""
    everyone = [(channel, person) for channel in [*CHANNELS, "CBURST"] for person in people.of(channel)]
    queue = iter(everyone)

    async def worker() -> None:
        for channel, person in queue:
            await send(server, channel, person)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(parallel)))
    return len(everyone) / (time.perf_counter() - start)


async def throughput(send: Callable[[Server, str], Any], server: Server, n: int, parallel: int = 16) -> float:
    """Closed loop over many channels: answered commands per second."""
    counter = itertools.count()

    async def worker() -> None:
        while (i := next(counter)) < n:
            await send(server, CHANNELS[i % len(CHANNELS)])

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(parallel)))
    return n / (time.perf_counter() - start)


async def paced(send: Callable[[Server, str], Any], server: Server, rate: float, n: int) -> list[float]:
    """Open loop at ``rate`` commands a second: end-to-end latencies."""
    tasks = []
    start = time.perf_counter()
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(server, CHANNELS[i % len(CHANNELS)])))
    return list(await asyncio.gather(*tasks))


async def burst(send: Callable[..., Any], server: Server) -> list[float]:
    return list(await asyncio.gather(*(send(server, "CBURST") for _ in range(20))))


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


def partsbot(name: str, database_url: str, extra: dict[str, str], fake_url: str) -> Server:
    env = {"DATABASE_URL": database_url, "PARTSBOT_ENV": "test", "PARTSBOT_HOST": "127.0.0.1"}
    env.update(extra)
    env.setdefault("PARTSBOT_LOG_LEVEL", "WARNING")
    return Server(name, [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main(['serve']))"], env)


def slack_env(fake_url: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_url + "/api/"}


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
