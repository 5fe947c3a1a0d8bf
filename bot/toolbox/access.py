"""The one access policy: may this person see, steer or decide a case, plan, vote, meeting, confidential
matter or summary – and, for handlers, finding a case by number.

Every path asks here – commands with numbers, buttons and forms (whatever value they carry), lists, the
Slack App Home, the weekly summary and the scheduler – and every answer is given in the *data's own*
unit, with the roles granted there (:mod:`bot.roles`), never in the unit the event came from. Something a
person may not see answers exactly like something that does not exist (the callers make sure of that).

Rules
-----
* A member of a unit sees its ordinary cases. A parties-only case is seen by the parties of its unit
  (leder and the employees' representatives) and its starter; nobody else, whatever other role they hold
  elsewhere.
* A case is steered (steps closed, plan changed) by its starter and the parties of its unit.
* An entry in a case (an answer in the define step, a blind-spot question, an idea) is struck by the
  case's starter or the parties of its unit; its author may take it back (undo) within
  :data:`UNDO_WINDOW` of writing it, while the case is still in a step that uses it. Nobody else.
* A plan is decided by the leder of its unit; representatives of its unit record a stance; staff of the
  unit may support or comment.
* A confidential matter ("til verneombudet") is seen by its starter and the holders of the chosen role
  in its unit – never by the leder.
* A meeting is seen by the members of its unit; a trio meeting (partsmøte) only by the trio of its unit,
  who alone plan one. Only a trio meeting may hold a parties-only case.
* Course enrolment, course settings and summaries are for the leder (and the parties, where the course
  says the trio shares them).
* A reflection is answered by those its module was for. Module 6's exchange page is prepared by the
  parties of its unit and posted only when the other party confirms; exchange groups and channels are the
  leder's; questions come from members of the group's units and are answered by the sharing trio.

Lock order (code.md B11): a case row is locked before the rows that belong to it (its vote, plan, ideas);
code that starts from a vote or a plan locks the case first (:func:`lock_case`), so two writers never wait
for each other in opposite orders (a person closing a vote while the scheduler closes it at its deadline).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from bot.chat.context import Ask, HandlerContext, UserError
from bot.chat.model import Action, Button, Buttons, Command, Reply, Text
from bot.roles import holds, party_unit_ids, roles_of
from bot.storage.models import PARTY_ROLES, REPRESENTATIVE_ROLES, Membership, Unit
from bot.toolbox.models import Case
from bot.toolbox.models_matter import Matter
from bot.toolbox.models_plan import Meeting, Plan, Vote


def in_organisation(session: Session, unit_id: int, organisation_id: int) -> bool:
    unit = session.get(Unit, unit_id)
    return unit is not None and unit.organisation_id == organisation_id


def is_member(session: Session, unit_id: int, member_id: int) -> bool:
    return session.get(Membership, (unit_id, member_id)) is not None


def is_party(session: Session, unit_id: int, member_id: int) -> bool:
    return holds(session, unit_id, member_id, PARTY_ROLES)


def is_leader(session: Session, unit_id: int, member_id: int) -> bool:
    return holds(session, unit_id, member_id, ("leder",))


def holds_role(session: Session, unit_id: int, member_id: int, role: str) -> bool:
    return holds(session, unit_id, member_id, (role,))


def is_representative(session: Session, unit_id: int, member_id: int) -> bool:
    return holds(session, unit_id, member_id, REPRESENTATIVE_ROLES)


def _reaches(session: Session, organisation_id: int, member_id: int, unit_id: int) -> bool:
    """The unit is in the person's organisation and the person belongs to it."""
    return in_organisation(session, unit_id, organisation_id) and is_member(session, unit_id, member_id)


# --------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------


def may_see_case(session: Session, organisation_id: int, member_id: int, case: Case) -> bool:
    if not _reaches(session, organisation_id, member_id, case.unit_id):
        return False
    if not case.parties_only:
        return True
    return case.started_by_id == member_id or is_party(session, case.unit_id, member_id)


def may_steer_case(session: Session, organisation_id: int, member_id: int, case: Case) -> bool:
    if not may_see_case(session, organisation_id, member_id, case):
        return False
    return case.started_by_id == member_id or is_party(session, case.unit_id, member_id)


def may_end_case(session: Session, organisation_id: int, member_id: int, case: Case) -> bool:
    """Withdraw or close a case without a plan: its starter or a party of its unit (the steerers), and
    only while it is open and undecided (a decided plan is followed up and closed by its own loop)."""
    if case.closed_at is not None or case.step == "agreed":
        return False
    return may_steer_case(session, organisation_id, member_id, case)


# How long the author of an entry may take it back with the "Angre" button: long enough to notice a
# misunderstanding ("that was not meant as an answer"), short enough that others have not built on it.
UNDO_WINDOW = timedelta(minutes=15)


def may_strike_entry(session: Session, organisation_id: int, member_id: int, case: Case) -> bool:
    """Strike an answer, question or idea from the case: those who steer it (its starter, the parties)."""
    return may_steer_case(session, organisation_id, member_id, case)


def may_undo_entry(
    session: Session,
    organisation_id: int,
    member_id: int,
    case: Case,
    author_id: int | None,
    written_at: datetime | None,
    now: datetime,
) -> bool:
    """Take back one's own entry: only its author (an anonymous one has none), only for a while."""
    if author_id is None or author_id != member_id or written_at is None:
        return False
    if not may_see_case(session, organisation_id, member_id, case):
        return False
    return now - written_at <= UNDO_WINDOW


def visible_case_clause(session: Session, member_id: int | None) -> ColumnElement[bool]:
    """A WHERE clause for cases a person may see *among cases of units they belong to* (the caller
    restricts the units): ordinary cases, and parties-only ones they started or are a party of.
    One query instead of a check per case (code.md B16)."""
    if member_id is None:
        return Case.parties_only.is_(False)
    parties = party_unit_ids(session, member_id)
    return or_(
        Case.parties_only.is_(False),
        Case.started_by_id == member_id,
        Case.unit_id.in_(parties) if parties else false(),
    )


def party_only_visible_to_all(session: Session, unit_id: int, member_ids: list[int]) -> bool:
    """Whether every one of ``member_ids`` may see the unit's parties-only material: a message that goes
    to all of them (a summary) may name it only then. An empty list fails closed."""
    if not member_ids:
        return False
    return all(is_party(session, unit_id, member_id) for member_id in member_ids)


# --------------------------------------------------------------------------------------------------
# Plans, votes and meetings: the rules of the case they belong to, checked in their own unit
# --------------------------------------------------------------------------------------------------


def _case(session: Session, case_id: int | None) -> Case | None:
    return session.get(Case, case_id) if case_id is not None else None


def may_see_plan(session: Session, organisation_id: int, member_id: int, plan: Plan) -> bool:
    case = _case(session, plan.case_id)
    return case is not None and may_see_case(session, organisation_id, member_id, case)


def may_change_plan(session: Session, organisation_id: int, member_id: int, plan: Plan) -> bool:
    """Only the case's steerers change a plan (SEC-16): its starter and the parties of the plan's unit."""
    case = _case(session, plan.case_id)
    return case is not None and may_steer_case(session, organisation_id, member_id, case)


def may_decide_plan(session: Session, organisation_id: int, member_id: int, plan: Plan) -> bool:
    return may_see_plan(session, organisation_id, member_id, plan) and is_leader(
        session, plan.unit_id, member_id
    )


def stance_roles(session: Session, organisation_id: int, member_id: int, plan: Plan) -> list[str]:
    """The representatives' roles in which this person may record a stance on the plan."""
    if not may_see_plan(session, organisation_id, member_id, plan):
        return []
    return [r for r in roles_of(session, plan.unit_id, member_id) if r in REPRESENTATIVE_ROLES]


def may_mark_action_done(
    session: Session, organisation_id: int, member_id: int, plan: Plan, owner_id: int | None
) -> bool:
    if not may_see_plan(session, organisation_id, member_id, plan):
        return False
    return owner_id == member_id or is_party(session, plan.unit_id, member_id)


def may_see_vote(session: Session, organisation_id: int, member_id: int, vote: Vote) -> bool:
    case = _case(session, vote.case_id)
    if case is not None:
        return may_see_case(session, organisation_id, member_id, case)
    return _reaches(session, organisation_id, member_id, vote.unit_id)


def may_close_vote(session: Session, organisation_id: int, member_id: int, vote: Vote) -> bool:
    if not may_see_vote(session, organisation_id, member_id, vote):
        return False
    return vote.owner_id == member_id or is_party(session, vote.unit_id, member_id)


def may_see_meeting(session: Session, organisation_id: int, member_id: int, meeting: Meeting) -> bool:
    """A meeting of the person's unit; a trio meeting (partsmøte) only for the trio of its own unit."""
    if not _reaches(session, organisation_id, member_id, meeting.unit_id):
        return False
    return meeting.kind != "trio" or is_party(session, meeting.unit_id, member_id)


def may_plan_trio_meeting(session: Session, organisation_id: int, member_id: int, unit_id: int) -> bool:
    """The trio's own meeting is planned by the trio: leder, verneombud and tillitsvalgt of the unit."""
    return in_organisation(session, unit_id, organisation_id) and is_party(session, unit_id, member_id)


def may_run_meeting(session: Session, organisation_id: int, member_id: int, meeting: Meeting) -> bool:
    return may_see_meeting(session, organisation_id, member_id, meeting) and meeting.organiser_id == member_id


# --------------------------------------------------------------------------------------------------
# Confidential matters and units
# --------------------------------------------------------------------------------------------------


def may_see_matter(session: Session, organisation_id: int, member_id: int, matter: Matter) -> bool:
    if not in_organisation(session, matter.unit_id, organisation_id):
        return False
    if matter.started_by_id == member_id:
        return True
    return holds(session, matter.unit_id, member_id, (matter.to_role,))


def may_manage_unit(session: Session, organisation_id: int, member_id: int, unit_id: int) -> bool:
    """Enrol the unit in a course, change its course settings, read its summaries: the leder."""
    return in_organisation(session, unit_id, organisation_id) and is_leader(session, unit_id, member_id)


def may_see_summary(session: Session, organisation_id: int, member_id: int, unit_id: int) -> bool:
    """The weekly summary and check-in results are for the parties of the unit."""
    return in_organisation(session, unit_id, organisation_id) and is_party(session, unit_id, member_id)


def may_prepare_gathering(session: Session, organisation_id: int, member_id: int, unit_id: int) -> bool:
    """The HØRA draft for a staff gathering: the trio leads the gathering together."""
    return in_organisation(session, unit_id, organisation_id) and is_party(session, unit_id, member_id)


def may_reflect(
    session: Session, organisation_id: int, member_id: int, unit_id: int, trio_only: bool
) -> bool:
    """The reflection after a module: those the module was for, in the run's own unit (the trio after a
    trio module, every member after a staff gathering)."""
    if not _reaches(session, organisation_id, member_id, unit_id):
        return False
    return is_party(session, unit_id, member_id) if trio_only else True


# --------------------------------------------------------------------------------------------------
# Module 6's experience exchange: the sharing unit's trio decides, the group's units ask
# --------------------------------------------------------------------------------------------------


def may_prepare_exchange(session: Session, organisation_id: int, member_id: int, unit_id: int) -> bool:
    """See the unit's drafted page, choose its items and propose it: any party of the unit."""
    return in_organisation(session, unit_id, organisation_id) and is_party(session, unit_id, member_id)


def may_confirm_exchange(
    session: Session, organisation_id: int, member_id: int, unit_id: int, proposed_by_id: int | None
) -> bool:
    """Post the proposed page: the *other* party of the unit. What leaves the kindergarten describes both
    the employer's decisions and the staff's experience, so neither side shares it alone: a page proposed
    by a representative is confirmed by the leder, one proposed by the leder by a verneombud or
    tillitsvalgt. Never by the proposer."""
    if proposed_by_id is None or member_id == proposed_by_id:
        return False
    if not may_prepare_exchange(session, organisation_id, member_id, unit_id):
        return False
    if is_leader(session, unit_id, proposed_by_id):
        return is_representative(session, unit_id, member_id)
    return is_leader(session, unit_id, member_id)


def may_manage_exchange(session: Session, organisation_id: int, member_id: int, unit_id: int) -> bool:
    """Make an exchange group, join one with its code, name the organisation's exchange channel: the
    leder of a unit (the employer's decision, like enrolling in the course)."""
    return may_manage_unit(session, organisation_id, member_id, unit_id)


def may_name_exchange_channel(session: Session, organisation_id: int, member_id: int) -> bool:
    """Name the organisation's exchange channel: the leder of one of its units."""
    unit_ids = session.scalars(
        select(Membership.unit_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(Membership.member_id == member_id, Unit.organisation_id == organisation_id)
    )
    return any(is_leader(session, unit_id, member_id) for unit_id in unit_ids)


def may_ask_exchange(
    session: Session, organisation_id: int, member_id: int, group_unit_ids: list[int]
) -> bool:
    """Ask about a shared page: a member of one of the group's units, in that unit's organisation."""
    return any(_reaches(session, organisation_id, member_id, unit_id) for unit_id in group_unit_ids)


def may_answer_exchange(session: Session, organisation_id: int, member_id: int, unit_id: int) -> bool:
    """Answer a question about a shared page: the trio of the unit that shared it."""
    return may_prepare_exchange(session, organisation_id, member_id, unit_id)


# --------------------------------------------------------------------------------------------------
# Finding a case for a handler: what a person may not see answers like what does not exist
# --------------------------------------------------------------------------------------------------


_CASE_REF = re.compile(r"^#(\d+)\b\s*")
# "1" as well as "#1" (people leave the # out), but only as a word of its own: "12.12." is a date.
_BARE_REF = re.compile(r"^(\d{1,9})(?=\s|$)\s*")


def can_see(ctx: HandlerContext, case: Case) -> bool:
    """The policy for a handler: :func:`may_see_case` for the event's person."""
    return may_see_case(ctx.session, ctx.organisation.id, ctx.member.id, case)


def can_steer(ctx: HandlerContext, case: Case) -> bool:
    """The policy for a handler: :func:`may_steer_case` for the event's person."""
    return may_steer_case(ctx.session, ctx.organisation.id, ctx.member.id, case)


def load_case(ctx: HandlerContext, case_id: int) -> Case:
    """The case with ``case_id`` if this person may see it; otherwise "unknown case" (never "hidden")."""
    # Locked for the rest of the event (PostgreSQL; SQLite already writes one at a time): numbering an idea
    # or a version, or moving the step, reads and then writes, and two people at once must not collide.
    # Later steps take their own locks after this one, always in that order (the lock order in
    # this module's docstring).
    case = ctx.session.get(Case, case_id, with_for_update=True)
    if case is None or not can_see(ctx, case):
        raise UserError("case.unknown", number=case_id)
    return case


def lock_case(session: Session, case_id: int) -> Case | None:
    """The case row, locked for the rest of the transaction and re-read: the first lock of the lock order."""
    return session.scalar(
        select(Case).where(Case.id == case_id).with_for_update().execution_options(populate_existing=True)
    )


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


# The "which case?" question: a button per open case (newest first), and one for something new.
PICK_ACTION = "case.pick"
PICK_NEW = "new"
MAX_PICK_CASES = 5
# A button carries the command's words back (Slack allows 2000 characters in a button's value).
MAX_PICK_ARGS = 1500


def resolve_case(ctx: HandlerContext, args: str, usage: str) -> tuple[Case, str]:
    """The case a command is about, by :func:`which_case`; never ``None``."""
    case, rest = which_case(ctx, args, usage)
    assert case is not None  # which_case answers None only when something new is allowed
    return case, rest


def which_case(
    ctx: HandlerContext,
    args: str,
    usage: str,
    *,
    new: str | None = None,
    none_ok: bool = False,
    bare: bool = True,
) -> tuple[Case | None, str]:
    """The one rule for which case a command is about, used by every command that needs a case:

    1. ``#12`` or ``12`` first in its arguments: case 12 (a bare number that is no case of yours belongs to
       the rest: a date, a count);
    2. the answer to an earlier "which case?" question (the :data:`PICK_ACTION` button): the chosen case;
    3. typed in a case's thread: that case;
    4. elsewhere: the open cases this person may see in the unit. With exactly one, and nothing new
       possible, that one; otherwise a short question with a button per case – and, when the command can
       also start something new (``new`` names that button's prompt), "Gjelder det sak #2 eller en ny?".
       Never a silent new case: ``None`` (start something new) only when the person chose it, or when there
       is no open case at all and ``new`` or ``none_ok`` says that is fine.

    ``bare=False`` for commands whose own arguments start with numbers (``/parts stemme 5 2``): only ``#12``.
    """
    number, rest = split_case_ref(args)
    if number is not None:
        return load_case(ctx, number), rest
    leading = _BARE_REF.match(args.strip()) if bare else None
    if leading is not None:
        try:
            return load_case(ctx, int(leading.group(1))), args.strip()[leading.end() :]
        except UserError:
            pass  # no such case: the number belongs to the rest (a date, a count)
    chosen = _picked(ctx)
    if chosen == PICK_NEW and new is not None:
        return None, rest
    if chosen is not None and chosen.isdigit():
        return load_case(ctx, int(chosen)), rest
    case = case_from_thread(ctx)
    if case is not None:
        return case, rest
    open_cases = visible_cases(ctx) if ctx.unit is not None else []
    if new is not None:
        # A decided plan being followed up is no place for a new idea hunt, blind spot or vote.
        open_cases = [c for c in open_cases if c.step != "agreed"]
    if not open_cases:
        if new is not None or none_ok:
            return None, rest
        raise UserError("case.which", usage=usage)
    if len(open_cases) == 1 and new is None:
        return open_cases[0], rest
    raise Ask(_which_question(ctx, open_cases[:MAX_PICK_CASES], args, usage, new))


def _picked(ctx: HandlerContext) -> str | None:
    """The case id (or :data:`PICK_NEW`) chosen with a "which case?" button, if this event is that press."""
    event = ctx.event
    if not isinstance(event, Action) or event.action_id != PICK_ACTION:
        return None
    return event.value.split("|", 1)[0]


def _which_question(ctx: HandlerContext, found: list[Case], args: str, usage: str, new: str | None) -> Reply:
    named = [ctx.t("case.which_case", number=c.id, step=ctx.t(f"case.steps.{c.step}")) for c in found]
    listed = (
        ctx.t("case.which_or", first=", ".join(named[:-1]), last=named[-1]) if len(named) > 1 else named[0]
    )
    event = ctx.event
    if not isinstance(event, Command) or len(args) > MAX_PICK_ARGS or "|" in event.name:
        # Nothing a button could carry back: the person adds the number themselves.
        raise UserError("case.which_many", cases=listed, usage=usage)
    text = (
        ctx.t("case.which_or_new", cases=listed) if new is not None else ctx.t("case.which_one", cases=listed)
    )
    buttons = [
        Button(ctx.t("case.pick_button", number=c.id), PICK_ACTION, f"{c.id}|{event.name}|{args}")
        for c in found
    ]
    if new is not None:
        buttons.append(Button(ctx.t(new), PICK_ACTION, f"{PICK_NEW}|{event.name}|{args}"))
    return Reply(fallback=text, blocks=(Text(text), Buttons(tuple(buttons))))


def require_open(case: Case) -> None:
    """A withdrawn or closed case takes no more steps, ideas, questions or plan changes."""
    if case.end_reason is not None:
        raise UserError("case.ended_already", number=case.id)


def require_step(case: Case, *steps: str) -> None:
    require_open(case)
    if case.step not in steps:
        raise UserError(f"case.wrong_step.{case.step}", number=case.id)


def require_steer(ctx: HandlerContext, case: Case) -> None:
    if not can_steer(ctx, case):
        raise UserError("case.not_allowed")


def visible_cases(ctx: HandlerContext, *, include_closed: bool = False) -> list[Case]:
    """Cases of the person's unit they may see, newest first (parties-only ones filtered out for staff)."""
    unit = ctx.require_unit()
    if not is_member(ctx.session, unit.id, ctx.member.id):
        return []
    query = (
        select(Case)
        .where(Case.unit_id == unit.id, visible_case_clause(ctx.session, ctx.member.id))
        .order_by(Case.id.desc())
    )
    if not include_closed:
        query = query.where(Case.closed_at.is_(None))
    return list(ctx.session.scalars(query))
