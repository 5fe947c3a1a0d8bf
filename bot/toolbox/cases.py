"""Problem threads (cases): finding, showing and moving a case through the toolbox's steps.

A case lives in one thread rooted at its head message (key ``case:<id>:head``), which always shows the
current problem statement, the step, who started it and who takes part, updated in place. Each step's
module plugs into the router's step hooks (:mod:`bot.chat.steps`, reached as ``ctx.steps``), so later
steps (vote, plan) add themselves without this module knowing them.

A parties-only case has no thread in the open channel: its messages go as direct messages to the people
who may see it, and its head is sent again at each step instead of being updated in place.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from sqlalchemy import select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Block, Button, Buttons, Fields, Header, Message, Note, Place, Reply, Text
from bot.roles import party_members, roles_of
from bot.storage.models import PARTY_ROLES, Member, Unit
from bot.toolbox.access import (
    can_see,
    can_steer,
    case_from_thread,
    case_from_value,
    case_id_from_key,
    load_case,
    require_open,
    require_steer,
    require_step,
    resolve_case,
    split_case_ref,
    visible_cases,
    which_case,
)
from bot.toolbox.chatter import is_chatter
from bot.toolbox.history import case_history
from bot.toolbox.models import STEPS, Case, next_step
from bot.toolbox.records import add_participant, add_version, name_of, participants, short, versions

# The interface later steps (vote, plan) and the handlers build on.
__all__ = [
    "STEPS",
    "VOTE_NUMBER",
    "add_participant",
    "add_version",
    "advance",
    "can_see",
    "can_steer",
    "case_from_thread",
    "case_from_value",
    "case_history",
    "case_id_from_key",
    "close_step",
    "for_case",
    "head_key",
    "load_case",
    "name_of",
    "next_step",
    "open_case",
    "participants",
    "post_in_case",
    "refresh_head",
    "render_head",
    "require_open",
    "require_steer",
    "require_step",
    "resolve_case",
    "short",
    "split_case_ref",
    "step_label",
    "versions",
    "visible_cases",
    "which_case",
]

# A case title is the first words of the first statement; the statement itself may be longer.
TITLE_LENGTH = 80
# Earlier statements shown on the head; the "history" button shows all of them.
HEAD_VERSIONS = 3
# The same statement from the same person within this window is a repeated submission, not a new case.
REPEAT_WINDOW = timedelta(minutes=10)


# A number in a vote thread is a dot ("ok 2"); "+1" is agreement.
VOTE_NUMBER = re.compile(r"(?<!\+)\d")


def head_key(case_id: int) -> str:
    return f"case:{case_id}:head"


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


def _with_direct_hint(ctx: HandlerContext, case: Case, reply: Reply) -> Reply:
    """A parties-only step that takes messages says how to write to it from a direct message ("#8 …"):
    there is no thread to answer in (bot/toolbox/direct.py)."""
    if not case.parties_only or case.step not in ctx.steps.thread_handlers or case.step == "define":
        return reply  # the define step's questions carry their own hint
    return Reply(reply.fallback, (*reply.blocks, Note(ctx.t("case.direct_hint", number=case.id))))


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
    step = ctx.t(f"case.ended_step.{case.end_reason}") if case.end_reason else step_label(ctx, case.step)
    fields: list[tuple[str, str]] = [
        (ctx.t("case.field_step"), step),
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
        shown = list(enumerate(earlier, start=1))[-HEAD_VERSIONS:]
        lines = [ctx.t("case.earlier_line", n=n, text=short(v.text)) for n, v in shown]
        blocks.append(Note(ctx.t("case.earlier_title", count=len(earlier)) + "\n" + "\n".join(lines)))
    for section in ctx.steps.head_sections:
        blocks.extend(section(ctx, case))
    blocks.append(Buttons(tuple(_head_buttons(ctx, case))))
    return Reply(fallback=title, blocks=tuple(blocks))


def _head_buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    if case.end_reason is not None:
        return [Button(ctx.t("case.history_button"), "case.history", str(case.id))]
    step_buttons = ctx.steps.head_buttons.get(case.step)
    buttons = list(step_buttons(ctx, case)) if step_buttons is not None else []
    if next_step(case.step) is not None:
        buttons.append(Button(ctx.t("case.next_button"), "case.next", f"{case.id}:{case.step}"))
    buttons.append(Button(ctx.t("case.history_button"), "case.history", str(case.id)))
    if case.closed_at is None and case.step != "agreed":
        # A decided plan is followed up and closed by its own loop (handlers/followup.py), not withdrawn.
        buttons.append(Button(ctx.t("case.end_button"), "case.end", str(case.id)))
    return buttons


# --------------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------------


def advance(ctx: HandlerContext, case: Case, step: str) -> None:
    """Move ``case`` to ``step``: close the current step, post the new step's intro, refresh the head.

    Rights are checked by the caller (:func:`close_step` for people; the scheduler closes a vote on time).
    """
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}")
    leaving = ctx.steps.exits.get(case.step)
    if leaving is not None:
        leaving(ctx, case)
    case.step = step
    case.updated_at = ctx.now
    if next_step(step) is None and not any(check(ctx, case) for check in ctx.steps.keep_open):
        case.closed_at = ctx.now
    ctx.session.flush()
    speaker = for_case(ctx, case)
    intro = ctx.steps.intros.get(step)
    reply = intro(speaker, case) if intro is not None else None
    if reply is None:
        reply = Reply.text(speaker.t("case.entered_step", step=step_label(speaker, step)))
    post_in_case(ctx, case, _with_direct_hint(speaker, case, reply))
    if case.parties_only:
        post_head(ctx, case)
    else:
        refresh_head(ctx, case)


def close_step(ctx: HandlerContext, case: Case, expected: str | None = None) -> None:
    """A person closes the current step. ``expected`` is the step a button was made for: a second click
    after the case moved on changes nothing."""
    require_steer(ctx, case)
    require_open(case)
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
        raise UserError(f"case.wrong_step.{case.step}", number=case.id)
    if case.step == step:
        return
    require_steer(ctx, case)
    require_open(case)
    advance(ctx, case, step)


def open_case(
    ctx: HandlerContext, statement: str, *, parties_only: bool = False, step: str = "define"
) -> Case:
    """Start a case at ``step`` (``define``, or ``blindspot``/``ideas`` when that tool is run on its own)."""
    unit = ctx.require_unit()
    text = ctx.text(statement)
    # A double-click on the form, or the same command sent twice, must not open two threads.
    recent = ctx.session.scalar(
        select(Case.id).where(
            Case.unit_id == unit.id,
            Case.started_by_id == ctx.member.id,
            Case.title == short(text, TITLE_LENGTH),
            Case.created_at >= ctx.now - REPEAT_WINDOW,
        )
    )
    if recent is not None:
        raise UserError("case.repeated", number=recent)
    held = roles_of(ctx.session, unit.id, ctx.member.id)
    starter_roles = [r for r in held if r in PARTY_ROLES] or held
    case = Case(
        unit_id=unit.id,
        title=short(text, TITLE_LENGTH),
        statement=text,
        started_by_id=ctx.member.id,
        starter_roles=",".join(starter_roles),
        step=step,
        parties_only=parties_only,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(case)
    ctx.session.flush()
    add_version(ctx, case, "statement", text)
    add_participant(ctx, case)
    # The intro may set up the step (the first question, a deadline) before the head shows it.
    intro = ctx.steps.intros.get(step)
    reply = intro(for_case(ctx, case), case) if intro is not None else None
    ctx.session.flush()
    post_head(ctx, case)
    if reply is not None:
        post_in_case(ctx, case, _with_direct_hint(for_case(ctx, case), case, reply))
    key = "case.opened_parties" if parties_only else "case.opened"
    ctx.private(ctx.t(key, number=case.id))
    return case


def handle_thread_message(ctx: HandlerContext, msg: Message) -> None:
    case = case_from_thread(ctx)
    if case is None or case.end_reason is not None:
        return  # an ended case takes nothing more: the thread is conversation now
    first = msg.text.split(maxsplit=1)
    if first and first[0].lower().strip(":,") in ("anonym", "anonymt", "anonymous", "anon"):
        # "Anonymt: …" in any step's thread: everyone saw who wrote it, so it is not stored under the
        # name either; the answer says how to ask anonymously (SEC-07, ux.md item 11).
        raise UserError("blindspot.typed_in_view", number=case.id)
    if is_chatter(msg.text) and not (case.step == "vote" and VOTE_NUMBER.search(msg.text)):
        # "Enig med Per 👍", "🎉🎉", "+1": colleagues talking, not an answer, a question or an idea. Left
        # alone, with no reply. In the vote a number is a dot ("ok 2"), but "+1" is agreement.
        return
    handler = ctx.steps.thread_handlers.get(case.step)
    if handler is None:
        raise UserError("case.thread_quiet", step=step_label(ctx, case.step))
    handler(ctx, case, msg)
