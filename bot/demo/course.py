"""``partsbot demo kurs``: a whole course run on a simulated clock through the console chat.

Six simulated colleagues enrol their kindergarten, then time jumps from one due moment to the next
(:func:`bot.course.scheduler.next_due`) and the real scheduler tick sends what is due. The first week is
shown in full; after that one line per moment keeps the output readable, while the colleagues answer the
check-ins and evaluations through the same console forms (their answers are simulated, deterministic and
improve over the weeks). It ends with the last weekly summary in full and the path of its chart.

Uses the case demo's :func:`bot.demo.case.demo_run` (temporary database, console chat, simulated clock); the
chart goes to ``PARTSBOT_CHART_DIR`` or a folder that outlives the run, so the printed path can be opened.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.adapters.console.chat import WORKSPACE, slug
from bot.chat.model import Actor, Place, Private, Submission
from bot.course import scheduler
from bot.course.checkin import INDICATORS
from bot.course.evaluation import questions_for
from bot.course.models import CheckinRound, EvaluationRound
from bot.course.unitcal import latest_summary_occurrence
from bot.course.words import when_text
from bot.demo import course_exchange, course_loop
from bot.demo.case import DemoRun, demo_run
from bot.i18n import catalogue, plural, raw, t
from bot.record import hms
from bot.record.files import write
from bot.settings import Settings
from bot.storage.models import Unit

OSLO = ZoneInfo("Europe/Oslo")
START = datetime(2027, 1, 4, 9, 0, tzinfo=OSLO)  # a Monday, a week before module 1
END = datetime(2027, 5, 18, 12, 0, tzinfo=OSLO)  # the summary after the course evaluation has closed
FULL_UNTIL = datetime(2027, 1, 11, 12, 0, tzinfo=OSLO)  # the first week is shown in full
BUSY_WEEK = 15  # the check-in of week 16 gets too few answers to be shown
THANKS_KEYS = {"checkin.answer": "checkin.thanks", "evaluation.answer": "evaluation.thanks"}


def _list(language: str, key: str) -> list[str]:
    value = raw(language, key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _score(person: int, question: int, week: int) -> int:
    """A deterministic answer that starts low and rises over the course, differently per person and
    question (involvement lags, trust grows fastest)."""
    base = 2.0 + week * 0.12 + ((person * 7 + question * 3) % 5 - 2) * 0.45 + (question % 3 - 1) * 0.3
    return max(1, min(5, round(base)))


class CourseDemo:
    def __init__(self, run: DemoRun, transcript: io.StringIO) -> None:
        self.run = run
        self.transcript = transcript
        self.language = run.language
        self.names = [line.split()[1] for line in _list(self.language, "course_demo.team")]
        self.week = 0
        self.hidden = ""
        self.loop_done: set[str] = set()  # the steps of bot/demo/course_loop.py this run has played

    def say(self, key: str, **values: object) -> None:
        self.run.say(f"course_demo.{key}", **values)

    async def type_as(self, name: str, *lines: str) -> str:
        """Type lines as ``name`` without printing them; return what the bot answered."""
        chat, out = self.run.chat, self.run.chat.out
        hidden = io.StringIO()
        chat.out = hidden
        try:
            for line in (f"/som {name}", *lines):
                await chat.handle_line(line)
        finally:
            chat.out = out
        return hidden.getvalue()

    async def submit(self, name: str, form_id: str, context: int, values: dict[str, str]) -> bool:
        """Send a filled-in form from ``name``'s direct chat, as pressing the DM's button and sending does."""
        user_id = slug(name)
        place = Place("console", WORKSPACE, f"dm-{user_id}", None, is_direct=True)
        event = Submission(Actor(user_id, name), place, form_id, values, str(context))
        chat, out = self.run.chat, self.run.chat.out
        chat.out = io.StringIO()  # the thanks go to the person only; the demo narrates a count instead
        try:
            effects = await self.run.bot.handle(event)
        finally:
            chat.out = out
        thanks = t(self.language, THANKS_KEYS[form_id])
        return any(isinstance(e, Private) and e.reply.fallback == thanks for e in effects)

    async def answer_checkins(self) -> None:
        # One week three people are too busy: the round stays below five answers, and the chart has a gap.
        people = self.names[:3] if self.week == BUSY_WEEK else self.names
        comments = _list(self.language, "course_demo.comments")
        round_id = await asyncio.to_thread(_latest, self.run, CheckinRound)
        answered = 0
        for p, name in enumerate(people):
            values = {q: str(_score(p, i, self.week)) for i, q in enumerate(INDICATORS)}
            values["comment"] = comments[(p + self.week) % len(comments)] if p == 0 and comments else ""
            answered += await self.submit(name, "checkin.answer", round_id, values)
        self.say("answered_checkin", count=answered, asked=len(self.names))
        self.week += 1

    async def answer_evaluation(self, phase: str) -> None:
        round_id = await asyncio.to_thread(_latest, self.run, EvaluationRound)
        # After the course, answers reflect the whole run; before it, the first weeks.
        week = self.week + (3 if phase == "after" else 0)
        answered = 0
        for p, name in enumerate(self.names[:5]):
            values = {q: str(_score(p, i, week)) for i, q in enumerate(questions_for(phase))}
            answered += await self.submit(name, "evaluation.answer", round_id, {**values, "comment": ""})
        self.say("answered_evaluation", count=answered)

    def describe(self, key: str, count: int) -> str:
        parts = key.split(":")
        kind = parts[2] if parts[0] == "run" else parts[0]
        module = parts[3].lstrip("m") if parts[0] == "run" else ""
        if f"course_demo.kinds.{kind}" not in catalogue(self.language):
            return t(self.language, "course_demo.kinds.other", key=key)
        return t(
            self.language,
            "course_demo.sent",
            what=t(self.language, f"course_demo.kinds.{kind}", module=module),
            count=plural(self.language, "counts.messages", count),
        )

    async def step(self, moment: datetime, full: bool) -> list[str]:
        """Tick at ``moment``; in full mode the chat shows everything, else one line per message sent."""
        self.run.clock.now = moment.astimezone(UTC)
        chat, out = self.run.chat, self.run.chat.out
        hidden = io.StringIO()
        if full:
            self.say("time", when=when_text(self.language, moment, self.run.timezone))
        else:
            chat.out = hidden
        try:
            report = await scheduler.tick(self.run.bot, self.run.clock())
        finally:
            # What a compact tick printed to nobody: the exchange demo shows a message or two from it.
            self.hidden = hidden.getvalue()
            chat.out = out
        sent = [
            key for key in report.sent if report.messages.get(key) and course_exchange.first_unit_only(key)
        ]
        if sent and not full:
            self.say("time", when=when_text(self.language, moment, self.run.timezone))
        for key in sent:
            self.run.chat.write(self.describe(key, report.messages[key]))
        return sent

    async def react(self, sent: list[str]) -> None:
        for key in sent:
            parts = key.split(":")
            if parts[0] == "checkin":
                await self.answer_checkins()
            elif parts[0] == "run" and parts[2] in PHASES:
                await self.answer_evaluation(PHASES[parts[2]].format(module=parts[3][1:]))
            elif parts[0] == "run" and parts[2] == "tool":
                line = catalogue(self.language).get(f"course_demo.after_tool.{parts[3][1:]}")
                if line:
                    # Module 1's tool is started by the leader, module 3's by the verneombud, …
                    name = self.names[(int(parts[3][1:]) // 2) % len(self.names)]
                    await self.type_as(name, str(line))
                    self.say("typed", name=name, line=line)
            await course_exchange.react(self, key, self.hidden)
        await course_loop.react(
            self
        )  # the plan, the trio meeting and the closed loop (bot/demo/course_loop.py)

    async def play(self) -> str | None:
        """The whole run; returns the chart path of the last weekly summary, if there was one."""
        run = self.run
        run.clock.now = START.astimezone(UTC)
        run.say("course_demo.banner")
        await run.chat.start()
        for line in _list(self.language, "course_demo.team"):
            await run.chat.handle_line(line)
        await run.chat.handle_line(f"/som {self.names[0]}")
        await run.chat.handle_line(str(raw(self.language, "course_demo.enrol")))
        await course_exchange.setup(self)
        final = await asyncio.to_thread(_final_summary, run)
        compact_said = False
        final_at = 0
        while (moment := scheduler.next_due(run.bot, run.clock())) is not None and moment <= END.astimezone(
            UTC
        ):
            full = moment <= FULL_UNTIL.astimezone(UTC)
            if not full and not compact_said:
                self.say("compact")
                compact_said = True
            if final is not None and moment == final:
                self.say("final")
                final_at = len(self.transcript.getvalue())
                full = True
            await self.react(await self.step(moment.astimezone(OSLO), full))
        tail = self.transcript.getvalue()[final_at:] if final_at else ""
        marker = "[" + t(self.language, "summary.chart_alt") + ": "
        return tail.split(marker, 1)[1].split("]", 1)[0] if marker in tail else None


def _latest(run: DemoRun, model: type[CheckinRound] | type[EvaluationRound]) -> int:
    # Solsikken's (unit 1, run 1): the second kindergarten of the exchange has rounds of its own.
    mine = CheckinRound.unit_id == 1 if model is CheckinRound else EvaluationRound.run_id == 1
    with run.bot.db.transaction() as session:
        return int(session.scalar(select(func.max(model.id)).where(mine)) or 0)


# Evaluation nudges and the phase their answers go to.
PHASES = {"baseline": "baseline", "module-evaluation": "module-{module}", "evaluation": "after"}


def _final_summary(run: DemoRun) -> datetime | None:
    """The last weekly summary moment before the demo ends: the one shown in full."""
    with run.bot.db.transaction() as session:
        unit = session.scalar(select(Unit).order_by(Unit.id))
        if unit is None:
            return None
        moment = latest_summary_occurrence(session, unit, END)
        return moment.astimezone(UTC) if moment else None


def _record(run: DemoRun, folder: Path) -> Path:
    """The unit's HMS record after the course, as the leader would file it."""
    with run.bot.db.transaction() as session:
        unit = session.scalar(select(Unit).order_by(Unit.id))
        assert unit is not None
        record = hms.collect(session, unit, run.clock(), run.language, for_trio=False)
    return write(record, "pdf", folder / f"hms-{unit.id}.pdf")


class _Tee(io.StringIO):
    """Everything printed goes to ``out`` and is kept, so the demo can find the chart path it printed."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text)
        return super().write(text)

    def flush(self) -> None:
        self.out.flush()


def run_course_demo(settings: Settings, out: TextIO) -> int:
    """Play the course demo into ``out``; exit code 0 when it ended with a summary and its chart."""
    charts = settings.extra.get("PARTSBOT_CHART_DIR") or tempfile.mkdtemp(prefix="partsbot-kurs-")
    used = dataclasses.replace(settings, extra={**settings.extra, "PARTSBOT_CHART_DIR": charts})
    tee = _Tee(out)

    async def main() -> bool:
        with demo_run(used, tee) as run:
            demo = CourseDemo(run, tee)
            path = await demo.play()
            ok = path is not None and await asyncio.to_thread(Path(path).is_file)
            if path is not None:
                run.say("course_demo.chart", path=path)
                run.say("course_demo.record", path=await asyncio.to_thread(_record, run, Path(charts)))
                trio = await asyncio.to_thread(course_loop.trio_record, run, Path(charts))
                run.say("course_demo_loop.trio_record", path=trio)
            run.say("course_demo.done" if ok else "course_demo.failed")
            return ok

    return 0 if asyncio.run(main()) else 1
