"""``partsbot demo``: a scripted walk through a whole case with simulated colleagues, printed exactly as
the console chat shows it.

The script (``prompts/<lang>/demo.yaml``, so a facilitator can adapt it) is typed line by line into the
real console chat – same router, database and delivery as Slack and Teams – on a temporary SQLite
database with a simulated clock, so the output is the same on every run and it finishes in seconds.

Script lines are typed as they are, with two substitutions and two directives:

* ``{case}`` becomes the number of the case's head message (for ``/tråd {case}``);
* ``[[label]]`` becomes the number of the latest button called ``label`` (pressing it);
* ``@time YYYY-MM-DD HH:MM`` moves the simulated clock (Oslo time);
* ``@scheduler`` runs the scheduler's hooks (votes past their deadline, meeting follow-ups) and delivers.

The pieces are composable: :func:`demo_run` opens a run, :func:`play` types a script into it, and
:func:`play_case` plays the case demo; a course-rhythm demo can continue in the same run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.adapters.console import ConsoleChat
from bot.core import Partsbot
from bot.i18n import raw, t
from bot.schema import metadata
from bot.settings import Settings
from bot.storage.db import Database
from bot.toolbox.followup import close_due_votes, due_meeting_followups
from bot.toolbox.models import Case

# Tuesday 24 November 2026, 09:15 in Oslo: a working morning in a kindergarten.
START = datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
_CASE_HEAD = re.compile(r"^\s*(?:↳ )?#(\d+)(?: \([^)]*\))? Partsbot:")
_BUTTON = re.compile(r"\[\[(.+?)\]\]")


class DemoClock:
    """Simulated time: each typed line takes a minute, and the script can jump ahead."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class DemoRun:
    bot: Partsbot
    chat: ConsoleChat
    clock: DemoClock
    out: TextIO
    language: str
    timezone: str

    def say(self, key: str, **values: object) -> None:
        """A narrator line between the chat lines, marked so it is not mistaken for the bot."""
        self.chat.write(t(self.language, key, **values))


@contextmanager
def demo_run(settings: Settings, out: TextIO) -> Iterator[DemoRun]:
    """A console chat on a fresh temporary database with a simulated clock."""
    with tempfile.TemporaryDirectory(prefix="partsbot-demo-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
        db = Database(url)
        try:
            metadata().create_all(db.engine)
            from handlers import build_router

            clock = DemoClock()
            used = dataclasses.replace(settings, database_url=url)
            bot = Partsbot(used, db, build_router(), clock)
            chat = ConsoleChat(bot, out, echo_input=True)
            yield DemoRun(bot, chat, clock, out, settings.language, settings.timezone)
        finally:
            db.dispose()


def _message_number(transcript: str, marker: str) -> str | None:
    current = None
    for line in transcript.splitlines():
        match = _CASE_HEAD.match(line)
        if match:
            current = match.group(1)
        elif marker in line and current is not None:
            return current
    return None


def _button_number(transcript: str, label: str) -> str | None:
    found = re.findall(r"\[(\d+)\] " + re.escape(label) + r"(?:\s|$)", transcript)
    return found[-1] if found else None


async def play(run: DemoRun, lines: Sequence[str], transcript: list[str]) -> None:
    """Type ``lines`` into the chat; ``transcript`` collects what was printed (for the substitutions)."""
    for line in lines:
        text = str(line)
        if text.startswith("@time "):
            local = datetime.strptime(text.removeprefix("@time ").strip(), "%Y-%m-%d %H:%M")
            run.clock.now = local.replace(tzinfo=ZoneInfo(run.timezone)).astimezone(UTC)
            run.say("demo.time", when=local.strftime("%d.%m.%Y %H:%M"))
            continue
        if text.strip() == "@scheduler":
            run.say("demo.scheduler")
            await asyncio.to_thread(_scheduler, run)
            await run.bot.delivery.flush()
            continue
        head = "== " + t(run.language, "case.head_title", number=1, title="").strip()
        text = text.replace("{case}", _message_number("".join(transcript), head) or "?")
        text = _BUTTON.sub(lambda m: _button_number("".join(transcript), m.group(1)) or "?", text)
        if text.isdigit() and await asyncio.to_thread(run.chat.in_vote_thread):
            text = f"/velg {text}"  # in a voting thread a bare number is a vote, so press the button by name
        await run.chat.handle_line(text)
        run.clock.now += timedelta(minutes=1)


def _scheduler(run: DemoRun) -> None:
    with run.bot.db.transaction() as session:
        close_due_votes(session, run.clock(), run.bot.router.steps, run.bot.settings)
        due_meeting_followups(session, run.clock())


async def play_case(run: DemoRun, transcript: list[str]) -> bool:
    """The case demo: roles, problem, blind spot, idea hunt, vote, plan, approvals. ``True`` when the
    case ended with an agreed plan."""
    script = raw(run.language, "demo.case_script")
    await play(run, script if isinstance(script, list) else [], transcript)

    def agreed() -> bool:
        with run.bot.db.transaction() as session:
            return session.scalar(select(Case.step).order_by(Case.id)) == "agreed"

    return await asyncio.to_thread(agreed)


class _Tee:
    """Write to the real output and keep a copy, so the script can find numbers it printed."""

    def __init__(self, out: TextIO, copy: list[str]) -> None:
        self.out, self.copy = out, copy

    def write(self, text: str) -> int:
        self.copy.append(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def run_demo(settings: Settings, out: TextIO) -> int:
    """Play the case demo into ``out``; exit code 0 when it ended with an agreed plan."""
    transcript: list[str] = []
    tee = _Tee(out, transcript)

    async def main() -> bool:
        with demo_run(settings, tee) as run:  # type: ignore[arg-type]
            run.say("demo.banner")
            await run.chat.start()
            ok = await play_case(run, transcript)
            run.say("demo.done" if ok else "demo.failed")
            return ok

    return 0 if asyncio.run(main()) else 1
