"""Problem threads (cases): finding, showing and moving a case through the toolbox's steps.

A case lives in one thread rooted at its head message (key ``case:<id>:head``), which always shows the
current problem statement, the step, who started it and who takes part, updated in place. Each step's
module plugs into the registries below, so later steps (vote, plan) add themselves without this module
knowing them:

* ``HEAD_SECTIONS`` – functions adding blocks to the head message (in order);
* ``HEAD_BUTTONS`` – per step, the buttons shown on the head besides "next step" and "history";
* ``STEP_INTROS`` – per step, what is posted in the thread when the case enters it (may also set up state);
* ``STEP_EXITS`` – per step, what happens when it closes (may refuse with a :class:`UserError`);
* ``THREAD_HANDLERS`` – per step, what a message in the case's thread means.

A parties-only case has no thread in the open channel: its messages go as direct messages to the people
who may see it, and its head is sent again at each step instead of being updated in place.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Block, Button, Buttons, Fields, Header, Message, Note, Place, Reply, Text
from bot.roles import party_members, roles_of
from bot.storage.models import PARTY_ROLES, Member, Membership, Unit
from bot.toolbox.models import (
    STEPS,
    Case,
    CaseParticipant,
    CaseVersion,
    Idea,
    PendingQuestion,
    Question,
    next_step,
)

__all__ = [
    "HEAD_BUTTONS",
    "HEAD_SECTIONS",
    "STEPS",
    "STEP_EXITS",
    "STEP_INTROS",
    "THREAD_HANDLERS",
    "add_participant",
    "advance",
    "can_see",
    "can_steer",
    "case_from_thread",
    "case_history",
    "close_step",
    "head_key",
    "load_case",
    "next_step",
    "post_in_case",
    "refresh_head",
    "render_head",
    "require_step",
]

HeadSection = Callable[[HandlerContext, Case], list[Block]]
StepIntro = Callable[[HandlerContext, Case], Reply | None]
StepExit = Callable[[HandlerContext, Case], None]
ThreadHandler = Callable[[HandlerContext, Case, Message], None]
HeadButtons = Callable[[HandlerContext, Case], list[Button]]

HEAD_SECTIONS: list[HeadSection] = []
HEAD_BUTTONS: dict[str, HeadButtons] = {}
STEP_INTROS: dict[str, StepIntro] = {}
STEP_EXITS: dict[str, StepExit] = {}
THREAD_HANDLERS: dict[str, ThreadHandler] = {}

# A case title is the first words of the first statement; the statement itself may be longer.
TITLE_LENGTH = 80
# Earlier statements shown on the head; the "history" button shows all of them.
HEAD_VERSIONS = 3

_CASE_REF = re.compile(r"^#(\d+)\b\s*")


def add_head_section(section: HeadSection) -> None:
    """Register a head section once (a module imported twice, or a router built per test, adds nothing)."""
    if section not in HEAD_SECTIONS:
        HEAD_SECTIONS.append(section)


def head_key(case_id: int) -> str:
    return f"case:{case_id}:head"


# --------------------------------------------------------------------------------------------------
# Finding a case and who may do what
# --------------------------------------------------------------------------------------------------


def _is_party(session: Session, unit_id: int, member_id: int) -> bool:
    return bool(set(roles_of(session, unit_id, member_id)) & set(PARTY_ROLES))


def can_see(ctx: HandlerContext, case: Case) -> bool:
    """Members of the case's unit see its cases; a parties-only case only the trio and its starter."""
    unit = ctx.session.get(Unit, case.unit_id)
    if unit is None or unit.organisation_id != ctx.organisation.id:
        return False
    if ctx.session.get(Membership, (case.unit_id, ctx.member.id)) is None:
        return False
    if not case.parties_only:
        return True
    return case.started_by_id == ctx.member.id or _is_party(ctx.session, case.unit_id, ctx.member.id)


def can_steer(ctx: HandlerContext, case: Case) -> bool:
    """The case owner (its starter) or the party trio of its unit may close steps and set deadlines."""
    if not can_see(ctx, case):
        return False
    return case.started_by_id == ctx.member.id or _is_party(ctx.session, case.unit_id, ctx.member.id)


def load_case(ctx: HandlerContext, case_id: int) -> Case:
    """The case with ``case_id`` if this person may see it; otherwise "unknown case" (never "hidden")."""
    case = ctx.session.get(Case, case_id)
    if case is None or not can_see(ctx, case):
        raise UserError("case.unknown", number=case_id)
    return case


def case_id_from_key(key: str | None) -> int | None:
    """``case:12:head`` (or any ``case:12:…`` key) → 12."""
    parts = (key or "").split(":")
    if len(parts) >= 2 and parts[0] == "case" and parts[1].isdigit():
        return int(parts[1])
    return None


def case_from_thread(ctx: HandlerContext) -> Case | None:
    """The case whose thread the event came from, ``None`` outside a case thread."""
    case_id = case_id_from_key(ctx.thread_key)
    return load_case(ctx, case_id) if case_id is not None else None


def case_from_value(ctx: HandlerContext, value: str) -> Case:
    """A button value or form context that starts with the case id (``"12"``, ``"12:define"``)."""
    head = value.split(":", 1)[0]
    if not head.isdigit():
        raise UserError("errors.unknown_action")
    return load_case(ctx, int(head))


def split_case_ref(args: str) -> tuple[int | None, str]:
    """``"#12 rest"`` → ``(12, "rest")``; no leading ``#number`` → ``(None, args)``."""
    match = _CASE_REF.match(args.strip())
    if match is None:
        return None, args.strip()
    return int(match.group(1)), args.strip()[match.end() :]


def resolve_case(ctx: HandlerContext, args: str, usage: str) -> tuple[Case, str]:
    """The case a command is about: ``#12`` first in its arguments, else the thread it was typed in."""
    number, rest = split_case_ref(args)
    if number is not None:
        return load_case(ctx, number), rest
    case = case_from_thread(ctx)
    if case is None:
        raise UserError("case.which", usage=usage)
    return case, rest


def require_step(case: Case, *steps: str) -> None:
    if case.step not in steps:
        raise UserError("case.wrong_step", number=case.id, step=case.step)


def require_steer(ctx: HandlerContext, case: Case) -> None:
    if not can_steer(ctx, case):
        raise UserError("case.not_allowed")


def visible_cases(ctx: HandlerContext, *, include_closed: bool = False) -> list[Case]:
    """Cases of the person's unit they may see, newest first (parties-only ones filtered out for staff)."""
    unit = ctx.require_unit()
    query = select(Case).where(Case.unit_id == unit.id).order_by(Case.id.desc())
    if not include_closed:
        query = query.where(Case.closed_at.is_(None))
    return [case for case in ctx.session.scalars(query) if can_see(ctx, case)]


# --------------------------------------------------------------------------------------------------
# Participants, versions
# --------------------------------------------------------------------------------------------------


def add_participant(ctx: HandlerContext, case: Case, member: Member | None = None) -> None:
    """Record that someone took part by name. Never call this for an anonymous contribution."""
    who = member or ctx.member
    exists = ctx.session.scalar(
        select(CaseParticipant.id).where(
            CaseParticipant.case_id == case.id, CaseParticipant.member_id == who.id
        )
    )
    if exists is None:
        ctx.session.add(CaseParticipant(case_id=case.id, member_id=who.id, joined_at=ctx.now))
        ctx.session.flush()


def participants(session: Session, case: Case) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .join(CaseParticipant, CaseParticipant.member_id == Member.id)
            .where(CaseParticipant.case_id == case.id)
            .order_by(CaseParticipant.joined_at, CaseParticipant.id)
        )
    )


def add_version(ctx: HandlerContext, case: Case, kind: str, text: str) -> CaseVersion:
    number = ctx.session.scalar(
        select(func.coalesce(func.max(CaseVersion.n), 0)).where(CaseVersion.case_id == case.id)
    )
    version = CaseVersion(
        case_id=case.id,
        n=int(number or 0) + 1,
        kind=kind,
        text=text,
        author_id=ctx.member.id,
        created_at=ctx.now,
    )
    ctx.session.add(version)
    case.updated_at = ctx.now
    ctx.session.flush()
    return version


def versions(session: Session, case: Case, *kinds: str) -> list[CaseVersion]:
    query = select(CaseVersion).where(CaseVersion.case_id == case.id).order_by(CaseVersion.n)
    if kinds:
        query = query.where(CaseVersion.kind.in_(kinds))
    return list(session.scalars(query))


def name_of(member: Member | None) -> str:
    return (member.display_name or member.user_id) if member else "?"


# --------------------------------------------------------------------------------------------------
# Languages and audiences
# --------------------------------------------------------------------------------------------------


def in_language(ctx: HandlerContext, language: str) -> HandlerContext:
    """The same context speaking another language; effects still land in the original list."""
    return ctx if language == ctx.language else dataclasses.replace(ctx, language=language)


def for_case(ctx: HandlerContext, case: Case) -> HandlerContext:
    """Messages everyone in the case reads are in the unit's language, not the actor's own choice."""
    unit = ctx.session.get(Unit, case.unit_id)
    return in_language(ctx, unit.language if unit else ctx.language)


def audience(ctx: HandlerContext, case: Case) -> list[Member]:
    """Who receives a parties-only case's messages: the trio of its unit and its starter."""
    people: dict[int, Member] = {}
    for members in party_members(ctx.session, case.unit_id).values():
        people.update({m.id: m for m in members})
    if case.started_by_id is not None:
        starter = ctx.session.get(Member, case.started_by_id)
        if starter is not None:
            people.setdefault(starter.id, starter)
    return list(people.values())


def case_place(ctx: HandlerContext, case: Case) -> Place:
    unit = ctx.session.get(Unit, case.unit_id)
    channel = unit.channel_id if unit else ctx.place.channel
    return Place(ctx.place.platform, ctx.place.workspace, channel)


def post_in_case(ctx: HandlerContext, case: Case, reply: Reply | str) -> None:
    """Post in the case's thread; for a parties-only case, a direct message to each person who may see it."""
    if case.parties_only:
        for member in audience(ctx, case):
            ctx.direct(member, reply)
        return
    ctx.post(reply, thread_key=head_key(case.id), place=case_place(ctx, case))


def post_head(ctx: HandlerContext, case: Case) -> None:
    """The first head message: keyed in the channel, or sent to each person of a parties-only case."""
    if case.parties_only:
        for member in audience(ctx, case):
            ctx.direct(member, render_head(in_language(ctx, ctx.language_of(member)), case))
        return
    ctx.post(render_head(for_case(ctx, case), case), key=head_key(case.id), place=case_place(ctx, case))


def refresh_head(ctx: HandlerContext, case: Case) -> None:
    """Show the case's current state on its head message, in place.

    A parties-only case's head is a direct message per person and cannot be updated; it is sent again
    when the step changes (see :func:`advance`) and shown on request (``/parts problem #12``).
    """
    if case.parties_only:
        return
    ctx.update(head_key(case.id), render_head(for_case(ctx, case), case))


# --------------------------------------------------------------------------------------------------
# The head message
# --------------------------------------------------------------------------------------------------


def step_label(ctx: HandlerContext, step: str) -> str:
    return ctx.t(
        "case.step_label", n=STEPS.index(step) + 1, total=len(STEPS), name=ctx.t(f"case.steps.{step}")
    )


def starter_text(ctx: HandlerContext, case: Case) -> str:
    starter = ctx.session.get(Member, case.started_by_id) if case.started_by_id else None
    roles = [r for r in case.starter_roles.split(",") if r]
    role_names = ", ".join(ctx.t(f"roles.names.{r}") for r in roles)
    if role_names:
        return ctx.t("case.started_by_role", name=name_of(starter), roles=role_names)
    return name_of(starter)


def render_head(ctx: HandlerContext, case: Case) -> Reply:
    title = ctx.t("case.head_title", number=case.id, title=case.title)
    people = ", ".join(name_of(m) for m in participants(ctx.session, case)) or ctx.t("case.nobody_yet")
    fields: list[tuple[str, str]] = [
        (ctx.t("case.field_step"), step_label(ctx, case.step)),
        (ctx.t("case.field_started_by"), starter_text(ctx, case)),
        (ctx.t("case.field_people"), people),
    ]
    if case.parties_only:
        fields.append((ctx.t("case.field_visibility"), ctx.t("case.parties_only")))
    blocks: list[Block] = [
        Header(title),
        Text(ctx.t("case.statement_now", statement=case.statement)),
        Fields(tuple(fields)),
    ]
    earlier = versions(ctx.session, case, "statement")[:-1]
    if earlier:
        lines = [ctx.t("case.earlier_line", n=v.n, text=_short(v.text)) for v in earlier[-HEAD_VERSIONS:]]
        blocks.append(Note(ctx.t("case.earlier_title", count=len(earlier)) + "\n" + "\n".join(lines)))
    for section in HEAD_SECTIONS:
        blocks.extend(section(ctx, case))
    blocks.append(Buttons(tuple(_head_buttons(ctx, case))))
    return Reply(fallback=title, blocks=tuple(blocks))


def _head_buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    buttons = list(HEAD_BUTTONS[case.step](ctx, case)) if case.step in HEAD_BUTTONS else []
    if next_step(case.step) is not None:
        buttons.append(Button(ctx.t("case.next_button"), "case.next", f"{case.id}:{case.step}"))
    buttons.append(Button(ctx.t("case.history_button"), "case.history", str(case.id)))
    return buttons


def _short(text: str, limit: int = 120) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------------


def advance(ctx: HandlerContext, case: Case, step: str) -> None:
    """Move ``case`` to ``step``: close the current step, post the new step's intro, refresh the head.

    Rights are checked by the caller (:func:`close_step` for people; part 2 may close a vote by time).
    """
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}")
    leaving = STEP_EXITS.get(case.step)
    if leaving is not None:
        leaving(ctx, case)
    case.step = step
    case.updated_at = ctx.now
    if next_step(step) is None:
        case.closed_at = ctx.now
    ctx.session.flush()
    speaker = for_case(ctx, case)
    intro = STEP_INTROS.get(step)
    reply = intro(speaker, case) if intro is not None else None
    if reply is None:
        reply = Reply.text(speaker.t("case.entered_step", step=step_label(speaker, step)))
    post_in_case(ctx, case, reply)
    if case.parties_only:
        post_head(ctx, case)
    else:
        refresh_head(ctx, case)


def close_step(ctx: HandlerContext, case: Case, expected: str | None = None) -> None:
    """A person closes the current step. ``expected`` is the step a button was made for: a second click
    after the case moved on changes nothing."""
    require_steer(ctx, case)
    if expected is not None and expected != case.step:
        raise UserError("case.already_moved", step=step_label(ctx, case.step))
    following = next_step(case.step)
    if following is None:
        raise UserError("case.finished", number=case.id)
    advance(ctx, case, following)
    ctx.private(ctx.t("case.closed_step", number=case.id, step=step_label(ctx, following)))


def jump_to(ctx: HandlerContext, case: Case, step: str) -> None:
    """Start ``step`` now, closing the current one (``/parts idejakt`` typed in a case at an earlier step)."""
    if STEPS.index(case.step) > STEPS.index(step):
        raise UserError("case.wrong_step", number=case.id, step=case.step)
    if case.step == step:
        return
    require_steer(ctx, case)
    advance(ctx, case, step)


def handle_thread_message(ctx: HandlerContext, msg: Message) -> None:
    case = case_from_thread(ctx)
    if case is None:
        return
    handler = THREAD_HANDLERS.get(case.step)
    if handler is None:
        raise UserError("case.thread_quiet", step=step_label(ctx, case.step))
    handler(ctx, case, msg)


# --------------------------------------------------------------------------------------------------
# History (summaries, export)
# --------------------------------------------------------------------------------------------------


def case_history(session: Session, case_id: int) -> dict[str, Any]:
    """Everything a case holds, for summaries and export. Anonymous questions carry no author, and
    questions still waiting for their batch are only counted (their text is not public yet)."""
    case = session.get(Case, case_id)
    if case is None:
        raise KeyError(case_id)
    members = session.scalars(
        select(Member)
        .join(Unit, Unit.organisation_id == Member.organisation_id)
        .where(Unit.id == case.unit_id)
    )
    names = {m.id: name_of(m) for m in members}

    def author(member_id: int | None) -> str | None:
        return names.get(member_id) if member_id is not None else None

    ideas = list(session.scalars(select(Idea).where(Idea.case_id == case.id).order_by(Idea.number)))
    numbers = {idea.id: idea.number for idea in ideas}
    questions = session.scalars(select(Question).where(Question.case_id == case.id).order_by(Question.id))
    pending = session.scalar(
        select(func.count()).select_from(PendingQuestion).where(PendingQuestion.case_id == case.id)
    )
    return {
        "id": case.id,
        "unit_id": case.unit_id,
        "title": case.title,
        "statement": case.statement,
        "step": case.step,
        "parties_only": case.parties_only,
        "started_by": author(case.started_by_id),
        "starter_roles": [r for r in case.starter_roles.split(",") if r],
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "ideas_deadline": case.ideas_deadline,
        "participants": [name_of(m) for m in participants(session, case)],
        "versions": [
            {"n": v.n, "kind": v.kind, "text": v.text, "author": author(v.author_id), "at": v.created_at}
            for v in versions(session, case)
        ],
        "questions": [
            {
                "text": q.text,
                "anonymous": q.anonymous,
                "author": author(q.author_id),
                "batch": q.batch,
                "at": q.released_at,
            }
            for q in questions
        ],
        "unreleased_anonymous": int(pending or 0),
        "ideas": [
            {
                "number": i.number,
                "text": i.text,
                "author": author(i.author_id),
                "builds_on": numbers.get(i.builds_on_id) if i.builds_on_id else None,
                "blocking": i.blocking,
                "at": i.created_at,
            }
            for i in ideas
        ],
    }
