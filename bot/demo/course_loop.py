"""The course demo's closed loop: a trio meeting, an action that names the check-in indicator it should
improve, and the case that closes with "Hvordan har vi det når målet er nådd?" (:mod:`bot.demo.course`
calls :func:`react` after each tick).

Module 3's tool starts Solsikken's case. A week later the trio makes the plan – an action for
*arbeidsflyt* – and plans its own meeting (a partsmøte, which only the three of them see) with "hvorfor og
hva vil vi" on the agenda. In April the action is done: the case asks its question again, with the
indicator's weekly figures before and after the action (hidden weeks stay hidden), a colleague answers,
and the verneombud closes the case with the answers. The HMS record at the end has all of it.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.adapters.console.chat import WORKSPACE, slug
from bot.chat.model import Actor, Place, Submission
from bot.i18n import raw
from bot.record import hms
from bot.record.files import write
from bot.storage.models import Unit
from bot.toolbox.models import Case
from bot.toolbox.models_plan import Meeting

if TYPE_CHECKING:
    from bot.demo.case import DemoRun
    from bot.demo.course import CourseDemo

OSLO = ZoneInfo("Europe/Oslo")
HOME = "personalet"
PLAN_AT = datetime(2027, 3, 1, 9, 0, tzinfo=OSLO)  # a week after module 3 started the case
DONE_AT = datetime(2027, 4, 22, 9, 0, tzinfo=OSLO)  # after the owner's reminder, before the due day


def _lines(demo: CourseDemo, key: str) -> list[str]:
    value = raw(demo.language, f"course_demo_loop.{key}")
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _case_id(demo: CourseDemo) -> int | None:
    """Solsikken's case (the first one in its channel), whatever number the other demo parts left it."""
    with demo.run.bot.db.transaction() as session:
        return session.scalar(
            select(Case.id)
            .join(Unit, Unit.id == Case.unit_id)
            .where(Unit.channel_id == HOME)
            .order_by(Case.id)
        )


async def _quiet(demo: CourseDemo, name: str, *lines: str) -> str:
    """Type as ``name`` in Solsikken's channel, output kept from the screen; returns it."""
    chat = demo.run.chat
    chat.channel, thread, direct = HOME, chat.thread, chat.direct
    chat.thread, chat.direct = None, False
    try:
        return await demo.type_as(name, *lines)
    finally:
        chat.thread, chat.direct = thread, direct


def _show(demo: CourseDemo, text: str, start: str, stop: int = 16) -> None:
    """Print the bot's message that contains ``start`` (its first ``stop`` lines), as the screen would."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if start in line:
            block = [line]
            for following in lines[index + 1 : index + stop]:
                if following and not following.startswith(" "):
                    break
                block.append(following)
            demo.run.chat.write("\n".join(block))
            return


async def react(demo: CourseDemo) -> None:
    """After each tick: the plan a week after the case began, the closing in April."""
    # Kept on the run itself: a module-level table keyed by id(demo) outlived its run, and a later run whose
    # object got the same id skipped its plan (the demo tests failed now and then, three runs per process).
    done = demo.loop_done
    now = demo.run.clock()
    case = _case_id(demo)
    if case is None:
        return
    if "plan" not in done and now >= PLAN_AT:
        done.add("plan")
        await _plan(demo, case)
    if "close" not in done and now >= DONE_AT:
        done.add("close")
        await _close(demo, case)


def _say(demo: CourseDemo, key: str, **values: object) -> None:
    demo.run.say(f"course_demo_loop.{key}", **values)


async def _plan(demo: CourseDemo, case: int) -> None:
    _say(demo, "plan", case=case)
    for name, line in zip(_lines(demo, "plan_who"), _lines(demo, "plan_lines"), strict=True):
        out = await _quiet(demo, name, line.format(case=case))
        demo.say("typed", name=name, line=line.format(case=case))
    # The leder decided last: the case's head now shows the indicator the action should improve.
    _show(demo, out, _lines(demo, "indicator_marker")[0], stop=2)
    # The trio's own meeting: only the three of them get the agenda, as direct messages.
    out = await _quiet(demo, demo.names[0], "/parts høra trio", *_lines(demo, "trio_meeting"))
    _say(demo, "trio", name=demo.names[0])
    _show(demo, out, _lines(demo, "trio_marker")[0], stop=14)


async def _reach(demo: CourseDemo, name: str, case: int, answer: str) -> str:
    """``name`` answers the case's question through its form, as the "Svar" button opens it."""
    chat, out = demo.run.chat, demo.run.chat.out
    chat.out = io.StringIO()
    try:
        place = Place("console", WORKSPACE, HOME)
        event = Submission(Actor(slug(name), name), place, "plan.reached", {"answer": answer}, str(case))
        await demo.run.bot.handle(event)
        return chat.out.getvalue()
    finally:
        chat.out = out


async def _close(demo: CourseDemo, case: int) -> None:
    names = demo.names  # Kari leder, Ola verneombud, Siri tillitsvalgt, Per, Anne, Jonas
    _say(demo, "done", case=case)
    out = await _quiet(demo, names[0], f"/parts plan #{case} ferdig 1")
    _show(demo, out, _lines(demo, "reached_marker")[0], stop=8)
    answer = str(raw(demo.language, "course_demo_loop.reached_answer"))
    await _reach(demo, names[3], case, answer)
    demo.say("typed", name=names[3], line=answer)
    with demo.run.bot.db.transaction() as session:
        meeting = session.scalar(
            select(Meeting.id)
            .join(Unit, Unit.id == Meeting.unit_id)
            .where(Unit.channel_id == HOME, Meeting.kind == "trio")
            .order_by(Meeting.id)
        )
    if meeting is not None:
        line = str(raw(demo.language, "course_demo_loop.meeting_result")).format(meeting=meeting)
        await _quiet(demo, names[0], line)
        demo.say("typed", name=names[0], line=line)
    out = await _quiet(demo, names[1], f"/parts plan #{case} avslutt")
    demo.say("typed", name=names[1], line=f"/parts plan #{case} avslutt")
    _show(demo, out, _lines(demo, "closed_marker")[0], stop=10)


def trio_record(run: DemoRun, folder: Path) -> Path:
    """The record for the trio: with the partsmøte, its HØRA and its result (the staff record leaves the
    trio's own meetings out)."""
    with run.bot.db.transaction() as session:
        unit = session.scalar(select(Unit).where(Unit.channel_id == HOME))
        assert unit is not None
        record = hms.collect(session, unit, run.clock(), run.language, for_trio=True)
    return write(record, "pdf", folder / f"hms-{unit.id}-trio.pdf")
