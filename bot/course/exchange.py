"""Module 6, the digital experience exchange: kindergartens on the same course share "slik gjorde vi det".

**Who is in it.** The leder of one unit makes an exchange group for the unit's course run and gets an
invite code (shown once; only its SHA-256 is stored). Leders of other units join with the code – units of
the same Slack workspace/Teams tenant and units of another organisation alike: without the code nobody
joins, and nothing of the group is visible from outside it. Each organisation names one exchange channel,
where the pages of every unit of its groups are posted (pages are posted in every participating
organisation's channel, so units in different workspaces or tenants see each other's pages).

**The page.** A week before module 6 each unit's trio gets a page drafted from its own data
(:func:`draft_items`): the case it worked on and its problem statement, the plan and what happened to its
actions (without owners' names), its HØRA meetings and whether they reached the desired result, the
check-in from the first to the latest shown week and the evaluation figures. Only what the thresholds
allow (the lines of :mod:`bot.course.shared`), and never anything from a parties-only case: such cases,
their plans and meetings about them are left out before anything is drafted.

**The trio's choice.** Nothing is shared by default: every item starts unchosen. Any party of the unit
may choose items and propose the page; it is posted only when the *other* party confirms – the leder if a
representative proposed, a verneombud or tillitsvalgt if the leder did (:func:`bot.toolbox.access.
may_confirm_exchange`). What leaves the kindergarten tells about both the employer's decisions and the
staff's experience, so in a course about partssamarbeid neither side publishes it alone. A confirmation
names the exact selection it confirms, so a selection changed in between cannot be posted by an old
button.

**Questions.** Members of the group's units ask about a page from the exchange channel; the question
goes privately to the sharing unit's trio, and their answer is posted with the question in the page's
thread in every exchange channel.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.context import UserError
from bot.chat.model import Block, Button, Buttons, Divider, Effect, Header, Note, Place, Post, Reply, Text
from bot.course import shared
from bot.course.audience import direct, language_of, organisation_of, trio_of
from bot.course.models import CourseModule, CourseRun
from bot.course.models_exchange import (
    ExchangeChannel,
    ExchangeGroup,
    ExchangePage,
    ExchangeQuestion,
    ExchangeRun,
)
from bot.course.words import module_name, when_text
from bot.i18n import t
from bot.storage.models import Member, Organisation, Unit
from bot.toolbox.models import Case
from bot.toolbox.models_plan import ActionItem, Meeting, Plan

# No 0/O, 1/I/L: codes are read aloud and typed from a screen.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# Each item's text on the page; a whole page stays well inside a Slack message.
ITEM_CHARS = 700
ITEM_KEYS = ("case", "plan", "hora", "checkin", "evaluation")


# The group -------------------------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def membership(session: Session, run_id: int) -> ExchangeRun | None:
    return session.get(ExchangeRun, run_id)


def group_runs(session: Session, group_id: int) -> list[ExchangeRun]:
    return list(
        session.scalars(
            select(ExchangeRun).where(ExchangeRun.group_id == group_id).order_by(ExchangeRun.run_id)
        )
    )


def group_units(session: Session, group_id: int) -> list[Unit]:
    units = [session.get(Unit, row.unit_id) for row in group_runs(session, group_id)]
    return [u for u in units if u is not None]


def create_group(session: Session, run: CourseRun, now: datetime) -> str:
    """A new group with this run in it; returns the invite code (the only time it exists in clear).

    If the run made a group before, a new code replaces the old one (the old stops working)."""
    current = membership(session, run.id)
    if current is not None:
        group = session.get(ExchangeGroup, current.group_id)
        if group is None or group.created_by_unit_id != run.unit_id:
            raise UserError("exchange.already_in_group")
        code = new_code()
        group.code_hash = code_hash(code)
        session.flush()
        return code
    code = new_code()
    group = ExchangeGroup(code_hash=code_hash(code), created_by_unit_id=run.unit_id, created_at=now)
    session.add(group)
    session.flush()
    session.add(ExchangeRun(run_id=run.id, group_id=group.id, unit_id=run.unit_id))
    session.flush()
    return code


def join_group(session: Session, run: CourseRun, code: str) -> ExchangeGroup:
    if membership(session, run.id) is not None:
        raise UserError("exchange.already_in_group")
    wanted = normalise_code(code)
    group = (
        session.scalar(select(ExchangeGroup).where(ExchangeGroup.code_hash == code_hash(wanted)))
        if len(wanted) == CODE_LENGTH
        else None
    )
    if group is None:
        # A wrong code says nothing about which groups exist.
        raise UserError("exchange.bad_code")
    session.add(ExchangeRun(run_id=run.id, group_id=group.id, unit_id=run.unit_id))
    session.flush()
    return group


def set_channel(session: Session, org: Organisation, channel_id: str, member: Member) -> None:
    row = session.get(ExchangeChannel, org.id)
    if row is None:
        row = ExchangeChannel(organisation_id=org.id, channel_id=channel_id)
        session.add(row)
    row.channel_id = channel_id
    row.set_by_id = member.id
    session.flush()


def channel_of(session: Session, organisation_id: int) -> ExchangeChannel | None:
    return session.get(ExchangeChannel, organisation_id)


def exchange_places(session: Session, group_id: int) -> list[tuple[Organisation, Place]]:
    """The exchange channel of every organisation with a unit in the group (those that named one)."""
    found: list[tuple[Organisation, Place]] = []
    seen: set[int] = set()
    for unit in group_units(session, group_id):
        if unit.organisation_id in seen:
            continue
        seen.add(unit.organisation_id)
        org = organisation_of(session, unit)
        row = channel_of(session, org.id)
        if row is not None:
            found.append((org, Place(org.platform, org.external_id, row.channel_id)))  # type: ignore[arg-type]
    return found


# The draft ---------------------------------------------------------------------------------------------


def _cut(text: str, limit: int = ITEM_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shared_case(session: Session, unit_id: int) -> Case | None:
    """The case to tell about: the newest one with a plan, else the newest one – never parties-only."""
    visible = select(Case).where(Case.unit_id == unit_id, Case.parties_only.is_(False))
    with_plan = session.scalar(
        visible.where(Case.id.in_(select(Plan.case_id))).order_by(Case.id.desc()).limit(1)
    )
    return with_plan or session.scalar(visible.order_by(Case.id.desc()).limit(1))


def _parties_only_case_ids(session: Session, unit_id: int) -> set[int]:
    return set(session.scalars(select(Case.id).where(Case.unit_id == unit_id, Case.parties_only.is_(True))))


def _meetings(session: Session, unit_id: int, now: datetime) -> list[Meeting]:
    """Meetings that have been held, none about a parties-only case and none private to the trio."""
    hidden = _parties_only_case_ids(session, unit_id)
    found = session.scalars(
        select(Meeting)
        .where(Meeting.unit_id == unit_id, Meeting.starts_at <= now)
        .order_by(Meeting.starts_at)
    )
    return [m for m in found if (m.case_id is None or m.case_id not in hidden) and not _trio_meeting(m)]


def _trio_meeting(meeting: Meeting) -> bool:
    # The trio's own meeting (partsmøte) is private to the trio and may hold parties-only material.
    return meeting.kind == "trio"


def draft_items(
    session: Session, run: CourseRun, unit: Unit, now: datetime, language: str
) -> list[dict[str, object]]:
    """The page's items from the unit's own data, thresholds applied, parties-only material left out."""
    items: list[dict[str, object]] = []

    def add(key: str, heading: str, lines: Iterable[str]) -> None:
        body = "\n".join(line for line in lines if line)
        if body.strip():
            items.append({"key": key, "text": _cut(f"*{heading}*\n{body}"), "chosen": False})

    case = _shared_case(session, unit.id)
    if case is not None:
        add("case", t(language, "exchange.items.case"), [f"«{case.title}»", _cut(case.statement, 400)])
        plan = session.scalar(select(Plan).where(Plan.case_id == case.id).order_by(Plan.id.desc()).limit(1))
        if plan is not None:
            actions = list(
                session.scalars(
                    select(ActionItem).where(ActionItem.plan_id == plan.id).order_by(ActionItem.number)
                )
            )
            lines = [t(language, "exchange.plan_goal", goal=plan.goal)] if plan.goal.strip() else []
            for action in actions:
                state = "exchange.action_done" if action.done_at is not None else "exchange.action_open"
                lines.append(t(language, state, text=action.text))
            if actions:
                done = sum(1 for a in actions if a.done_at is not None)
                lines.append(t(language, "exchange.actions_done", done=done, total=len(actions)))
            add("plan", t(language, "exchange.items.plan"), lines)
    meetings = _meetings(session, unit.id, now)
    if meetings:
        lines = []
        for meeting in meetings[-5:]:
            result = (
                t(language, f"hora.results.{meeting.result}")
                if meeting.result
                else t(language, "exchange.no_result")
            )
            lines.append(
                t(
                    language,
                    "exchange.meeting_line",
                    purpose=meeting.purpose,
                    desired=meeting.desired_result,
                    result=result,
                )
            )
        add("hora", t(language, "exchange.items.hora"), lines)
    add(
        "checkin",
        t(language, "exchange.items.checkin"),
        shared.checkin_lines(session, unit.id, now, language),
    )
    figures = [
        *shared.module_lines(session, run.id, now, language, hidden=False),
        *shared.comparison_lines(session, run.id, now, language, hidden=False),
    ]
    add("evaluation", t(language, "exchange.items.evaluation"), figures)
    return items


def page_of(session: Session, run_id: int) -> ExchangePage | None:
    return session.scalar(select(ExchangePage).where(ExchangePage.run_id == run_id))


def draft_page(session: Session, run: CourseRun, unit: Unit, now: datetime, language: str) -> ExchangePage:
    """The run's page, drafted afresh from the unit's data unless it was posted (then it stays as shared)."""
    member = membership(session, run.id)
    if member is None:
        raise UserError("exchange.not_in_group")
    page = page_of(session, run.id)
    if page is None:
        page = ExchangePage(
            group_id=member.group_id, run_id=run.id, unit_id=unit.id, status="draft", items=[]
        )
        session.add(page)
    if page.status == "posted":
        return page
    page.items = draft_items(session, run, unit, now, language)
    page.language = language
    page.status = "draft"
    page.proposed_by_id = None
    page.confirmed_by_id = None
    page.drafted_at = now
    session.flush()
    return page


def chosen_items(page: ExchangePage) -> list[dict[str, object]]:
    return [item for item in page.items or [] if item.get("chosen")]


def selection_tag(page: ExchangePage) -> str:
    """Names the exact selection a confirmation button confirms."""
    keys = ",".join(str(item["key"]) for item in chosen_items(page))
    return hashlib.sha256(f"{page.id}:{page.proposed_by_id}:{keys}".encode()).hexdigest()[:12]


def propose(session: Session, page: ExchangePage, keys: set[str], member: Member) -> None:
    if page.status == "posted":
        raise UserError("exchange.already_posted")
    items = [{**item, "chosen": str(item["key"]) in keys} for item in page.items or []]
    if not any(item["chosen"] for item in items):
        raise UserError("exchange.nothing_chosen")
    page.items = items
    page.status = "proposed"
    page.proposed_by_id = member.id
    page.confirmed_by_id = None
    session.flush()


def confirm(session: Session, page: ExchangePage, member: Member, tag: str, now: datetime) -> list[Effect]:
    """Post the proposed page in every exchange channel of the group; returns the posts."""
    if page.status == "posted":
        raise UserError("exchange.already_posted")
    if page.status != "proposed" or tag != selection_tag(page):
        raise UserError("exchange.changed")
    places = exchange_places(session, page.group_id)
    if not places:
        raise UserError("exchange.no_channel")
    page.status = "posted"
    page.confirmed_by_id = member.id
    page.posted_at = now
    session.flush()
    unit = session.get(Unit, page.unit_id)
    reply = render_page(page, unit.name if unit else "", page.language)
    return [Post(place, reply, key=page_key(page.id, org.id)) for org, place in places]


def page_key(page_id: int, organisation_id: int) -> str:
    return f"exchange:{page_id}:org:{organisation_id}"


# Rendering -----------------------------------------------------------------------------------------------


def render_items(items: Iterable[dict[str, object]], numbered: bool = False) -> list[Block]:
    blocks: list[Block] = []
    for number, item in enumerate(items, start=1):
        text = str(item["text"])
        blocks.append(Text(f"{number}. {text}" if numbered else text))
    return blocks


def render_page(page: ExchangePage, unit_name: str, language: str) -> Reply:
    """The page as it is posted in the exchange channels."""
    title = t(language, "exchange.page_title", unit=unit_name)
    blocks: list[Block] = [Header(title), *render_items(chosen_items(page)), Divider()]
    blocks.append(Note(t(language, "exchange.page_note", unit=unit_name)))
    blocks.append(
        Buttons((Button(t(language, "exchange.ask_button"), "exchange.ask", str(page.id), "primary"),))
    )
    return Reply(fallback=title, blocks=tuple(blocks))


def render_draft(page: ExchangePage, unit_name: str, language: str, intro: str = "") -> Reply:
    """The drafted page for the trio, every item numbered, with the button to choose."""
    title = t(language, "exchange.draft_title", unit=unit_name)
    blocks: list[Block] = [Header(title)]
    if intro:
        blocks.append(Text(intro))
    if page.status == "posted":
        blocks.append(Text(t(language, "exchange.draft_posted")))
        blocks.extend(render_items(chosen_items(page)))
        return Reply(fallback=title, blocks=tuple(blocks))
    if not page.items:
        blocks.append(Text(t(language, "exchange.draft_empty")))
        return Reply(fallback=title, blocks=tuple(blocks))
    blocks.extend(render_items(page.items, numbered=True))
    blocks.append(Note(t(language, "exchange.draft_note")))
    blocks.append(
        Buttons((Button(t(language, "exchange.choose_button"), "exchange.choose", str(page.id), "primary"),))
    )
    return Reply(fallback=title, blocks=tuple(blocks))


@dataclass(frozen=True)
class Answered:
    question: ExchangeQuestion
    asker: str
    asker_unit: str


def answer_posts(
    session: Session, page: ExchangePage, answered: Answered, answer: str, unit_name: str
) -> list[Effect]:
    """The question and its answer, in the page's thread in every exchange channel it was posted in."""
    language = page.language
    text = t(
        language,
        "exchange.answer_post",
        name=answered.asker,
        asker_unit=answered.asker_unit,
        question=answered.question.text,
        unit=unit_name,
        answer=answer,
    )
    return [
        Post(place, Reply.text(text), thread_key=page_key(page.id, org.id))
        for org, place in exchange_places(session, page.group_id)
    ]


def nudge_effects(session: Session, run: CourseRun, unit: Unit, now: datetime) -> list[Effect]:
    """A week before module 6: the drafted page to each of the trio (or, outside a group, how to join)."""
    in_group = membership(session, run.id) is not None
    # One page per unit, drafted in the unit's language: it is shared as written.
    page = draft_page(session, run, unit, now, language_of(None, unit)) if in_group else None
    start = session.scalar(
        select(CourseModule.starts_at).where(CourseModule.run_id == run.id, CourseModule.number == 6)
    )
    effects: list[Effect] = []
    org = organisation_of(session, unit)
    for member in trio_of(session, unit.id):
        language = language_of(member, unit)
        when = when_text(language, start, unit.timezone) if start else ""
        intro = t(
            language, "nudges_text.exchange_page", module_name=module_name(language, 6, "exchange"), when=when
        )
        if page is not None:
            reply = render_draft(page, unit.name, language, intro)
        else:
            title = t(language, "exchange.draft_title", unit=unit.name)
            reply = Reply(
                fallback=title,
                blocks=(Header(title), Text(intro), Text(t(language, "exchange.no_group_yet"))),
            )
        effects.append(direct(org, member, reply))
    return effects
