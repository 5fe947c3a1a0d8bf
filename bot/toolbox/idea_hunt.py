"""Step 3, "Idéjakt": as many ideas as possible before a deadline, each allowed to build on another.

The rule is improvisation's "Ja, og …": accept and build, no criticism yet. ``ja, og #3 …`` (or the
"build on" button) links an idea to the one it builds on and the bot shows the chain (#5 ← #3 ← #1). A
reply that blocks ("nei, men …", "men …") is still kept – the issue asks for a reminder, not a refusal –
and its author gets a friendly private reminder of the rule.

The hunt is time-boxed: the owner (or the trio) sets a deadline, by default the end of the second working
day after the hunt starts (Norwegian holidays, weekends and the summer closure do not count).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Block, Button, Buttons, Message, Note, Reply, Text
from bot.chat.steps import StepHooks
from bot.dates import parse as dates
from bot.dates.calendar import local_at, next_working_day
from bot.i18n import plural
from bot.storage.models import Member, Unit
from bot.toolbox import cases
from bot.toolbox.models import Case, Idea
from bot.toolbox.planning import show_deadline

DEFAULT_WORKING_DAYS = 2
HEAD_IDEAS = 15
_BUILD = re.compile(r"^\s*(?:ja|jo|yes)\s*[,!.]?\s*(?:og|and)\b\s*[,:]?\s*#(\d+)\b\s*[:,.\-–]?\s*", re.I)
_BLOCKING = re.compile(r"^\s*(?:nei\s*[,!.]?\s*men|no\s*[,!.]?\s*but|men|but)\b", re.I)


# --------------------------------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------------------------------


def _zone(ctx: HandlerContext, case: Case) -> ZoneInfo:
    unit = ctx.session.get(Unit, case.unit_id)
    return ZoneInfo(unit.timezone if unit else ctx.settings.timezone)


def end_of(day: date, zone: ZoneInfo) -> datetime:
    """The instant a day ends (midnight after it) in the unit's zone: "til og med" that day."""
    return local_at(day + timedelta(days=1), time(0, 0), zone)


def default_deadline(now: datetime, zone: ZoneInfo) -> datetime:
    """The end of the second working day after today."""
    day = now.astimezone(zone).date()
    for _ in range(DEFAULT_WORKING_DAYS):
        day = next_working_day(day + timedelta(days=1))
    return end_of(day, zone)


def parse_deadline(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """What a person typed ("fredag", "4.12.", "24.12. kl 14", "2026-12-01 14:00"), through that day when no
    time is given; a moment that has passed is questioned (:mod:`bot.dates.parse`)."""
    when = dates.parse_when(text, now.astimezone(zone).date())
    dates.check_future(when, now, zone, key="ideas.deadline_past")
    return dates.moment_of(when, now, zone)


def deadline_text(ctx: HandlerContext, case: Case) -> str:
    if case.ideas_deadline is None:
        return ctx.t("ideas.no_deadline")
    # The same words as every other deadline ("til og med tirsdag 1.12.2026"), not a bare 01.12.2026.
    return show_deadline(ctx.t, case.ideas_deadline, _zone(ctx, case).key)


def is_open(ctx: HandlerContext, case: Case) -> bool:
    return case.step == "ideas" and (case.ideas_deadline is None or ctx.now < case.ideas_deadline)


def set_deadline(ctx: HandlerContext, case: Case, text: str) -> None:
    cases.require_steer(ctx, case)
    cases.require_step(case, "define", "blindspot", "ideas")
    case.ideas_deadline = parse_deadline(text, ctx.now, _zone(ctx, case))
    case.updated_at = ctx.now
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    cases.post_in_case(ctx, case, speaker.t("ideas.deadline_set", when=deadline_text(speaker, case)))
    cases.refresh_head(ctx, case)


# --------------------------------------------------------------------------------------------------
# Ideas
# --------------------------------------------------------------------------------------------------


def intro(ctx: HandlerContext, case: Case) -> Reply:
    if case.ideas_deadline is None or case.ideas_deadline <= ctx.now:
        case.ideas_deadline = default_deadline(ctx.now, _zone(ctx, case))
    text = ctx.t("ideas.intro", when=deadline_text(ctx, case))
    return Reply(fallback=text, blocks=(Text(text), Note(ctx.t("ideas.intro_note"))))


def chain(ctx: HandlerContext, idea: Idea) -> list[int]:
    """The numbers from ``idea`` back to the idea its line started with: [5, 3, 1]."""
    numbers = [idea.number]
    seen = {idea.id}
    current = idea
    while current.builds_on_id is not None and current.builds_on_id not in seen:
        parent = ctx.session.get(Idea, current.builds_on_id)
        if parent is None:
            break
        numbers.append(parent.number)
        seen.add(parent.id)
        current = parent
    return numbers


def chain_text(numbers: list[int]) -> str:
    return " ← ".join(f"#{n}" for n in numbers)


def find_idea(ctx: HandlerContext, case: Case, number: int) -> Idea:
    idea = ctx.session.scalar(select(Idea).where(Idea.case_id == case.id, Idea.number == number))
    if idea is None:
        raise UserError("ideas.unknown_idea", number=number)
    return idea


def add_idea(ctx: HandlerContext, case: Case, text: str, builds_on: int | None = None) -> Idea:
    """Store an idea. ``ja, og #3 …`` at its start links it to idea 3 unless ``builds_on`` says so."""
    cases.require_step(case, "ideas")
    if not is_open(ctx, case):
        raise UserError("ideas.closed", when=deadline_text(ctx, case))
    raw = ctx.text(text)
    match = _BUILD.match(raw)
    if match is not None and builds_on is None:
        builds_on = int(match.group(1))
        raw = raw[match.end() :]
    cleaned = ctx.text(raw)
    parent = find_idea(ctx, case, builds_on) if builds_on is not None else None
    repeated = ctx.session.scalar(
        select(Idea.id).where(Idea.case_id == case.id, Idea.author_id == ctx.member.id, Idea.text == cleaned)
    )
    if repeated is not None:
        raise UserError("errors.duplicate")
    last = ctx.session.scalar(select(func.max(Idea.number)).where(Idea.case_id == case.id))
    idea = Idea(
        case_id=case.id,
        number=int(last or 0) + 1,
        text=cleaned,
        author_id=ctx.member.id,
        builds_on_id=parent.id if parent else None,
        blocking=bool(_BLOCKING.match(cleaned)),
        created_at=ctx.now,
    )
    ctx.session.add(idea)
    case.updated_at = ctx.now
    cases.add_participant(ctx, case)
    ctx.session.flush()
    cases.post_in_case(ctx, case, idea_reply(cases.for_case(ctx, case), case, idea))
    if idea.blocking:
        ctx.private(ctx.t("ideas.reminder"))
    cases.refresh_head(ctx, case)
    return idea


def idea_reply(ctx: HandlerContext, case: Case, idea: Idea) -> Reply:
    author = ctx.session.get(Member, idea.author_id) if idea.author_id else None
    text = ctx.t("ideas.posted", number=idea.number, name=cases.name_of(author), text=idea.text)
    blocks: list[Block] = [Text(text)]
    numbers = chain(ctx, idea)
    if len(numbers) > 1:
        blocks.append(Note(ctx.t("ideas.chain", chain=chain_text(numbers))))
    label = ctx.t("ideas.build_button", number=idea.number)
    blocks.append(Buttons((Button(label, "ideas.build", f"{case.id}:{idea.number}"),)))
    return Reply(fallback=text, blocks=tuple(blocks))


def on_message(ctx: HandlerContext, case: Case, msg: Message) -> None:
    add_idea(ctx, case, msg.text)


def head_section(ctx: HandlerContext, case: Case) -> list[Block]:
    ideas = list(ctx.session.scalars(select(Idea).where(Idea.case_id == case.id).order_by(Idea.number)))
    if not ideas and case.step != "ideas":
        return []
    state = deadline_text(ctx, case) if is_open(ctx, case) else ctx.t("ideas.head_closed")
    lines = [ctx.t("ideas.head_title", count=len(ideas), state=state)]
    for idea in ideas[-HEAD_IDEAS:]:
        lines.append(
            ctx.t("ideas.head_line", chain=chain_text(chain(ctx, idea)), text=cases.short(idea.text, 80))
        )
    if len(ideas) > HEAD_IDEAS:
        more = plural(ctx.language, "counts.earlier_ideas", len(ideas) - HEAD_IDEAS)
        lines.append(ctx.t("ideas.head_more", count=more))
    return [Text("\n".join(lines))]


def head_buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    return [
        Button(ctx.t("ideas.add_button"), "ideas.add", str(case.id), "primary"),
        Button(ctx.t("ideas.deadline_button"), "ideas.deadline", str(case.id)),
    ]


def register(steps: StepHooks) -> None:
    steps.intros["ideas"] = intro
    steps.thread_handlers["ideas"] = on_message
    steps.head_buttons["ideas"] = head_buttons
    steps.add_head_section(head_section)
