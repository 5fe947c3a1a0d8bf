"""The pieces of ``bench/bench_serve.py``: a fake Slack Web API and Bot Connector in this process, the servers
under test as processes of their own (:class:`Server`, :func:`partsbot`), the known people who send the
load, and the loads themselves (closed loop, open loop, burst). ``bench/profile_serve.py`` uses them too.
"""

from __future__ import annotations

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
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret-0123456789abcdef"
TOKEN = "xoxb-bench"
TEAM = "T0BENCH"
TENANT = "5f1c0a6e-0d3b-4c1e-9a57-3c2f0b7d9e11"


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


def partsbot(name: str, database_url: str, extra: dict[str, str], fake_url: str) -> Server:
    env = {"DATABASE_URL": database_url, "PARTSBOT_ENV": "test", "PARTSBOT_HOST": "127.0.0.1"}
    env.update(extra)
    env.setdefault("PARTSBOT_LOG_LEVEL", "WARNING")
    return Server(name, [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main(['serve']))"], env)


def slack_env(fake_url: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_url + "/api/"}
