"""Dot voting (prikkstemming): each person has a budget of dots and may put up to ``cap`` on one option.

Rules the code keeps:

* Results stay hidden until the vote closes; while it is open only the number of voters is shown.
* A person may move dots freely until the close. Every change names the wanted end state ("3 dots on
  #2", "my ballot is #2 #2 #5"), never "one more", so a double-click or a repeated message changes nothing.
* Votes from many people at once are all counted exactly once: each change locks the vote row
  (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers with ``BEGIN IMMEDIATE``), and a
  person's dots occupy numbered slots under unique constraints, so neither the budget nor the cap can be
  exceeded even by requests that race.
* Ties are ties: options with the same number of dots share a place.

This module holds the vote itself, alone over a typed list or over a case's ideas; ``handlers/vote.py``
plugs it into the case's steps and :func:`bot.toolbox.followup.close_due_votes` closes votes on time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Block, Button, Buttons, Header, Note, Reply, Text
from bot.i18n import Counted, Translator, plural
from bot.storage.models import Unit
from bot.toolbox import cases
from bot.toolbox.models import Case
from bot.toolbox.models_plan import Vote, VoteDot, VoteOption
from bot.toolbox.planning import show_deadline
from bot.toolbox.records import short

DEFAULT_BUDGET = 3
DEFAULT_CAP = 2
MAX_BUDGET = 20
MAX_OPTIONS = 40
MAX_LABEL = 300
DOT = "●"


def head_key(vote_id: int) -> str:
    return f"vote:{vote_id}:head"


def vote_id_from_key(key: str | None) -> int | None:
    parts = (key or "").split(":")
    return int(parts[1]) if len(parts) >= 2 and parts[0] == "vote" and parts[1].isdigit() else None


# --------------------------------------------------------------------------------------------------
# Opening, changing, closing
# --------------------------------------------------------------------------------------------------


def check_settings(budget: int, cap: int) -> None:
    if not 1 <= budget <= MAX_BUDGET:
        raise UserError("vote.bad_budget", limit=MAX_BUDGET)
    if not 1 <= cap <= budget:
        raise UserError("vote.bad_cap", budget=budget)


def open_vote(
    session: Session,
    *,
    unit_id: int,
    owner_id: int | None,
    title: str,
    options: list[tuple[int, str, int | None]],
    budget: int,
    cap: int,
    deadline: datetime | None,
    now: datetime,
    case_id: int | None = None,
) -> Vote:
    """Open a vote over ``options`` (position, label, idea id)."""
    if not options:
        raise UserError("vote.no_options")
    if len(options) > MAX_OPTIONS:
        raise UserError("vote.too_many_options", count=len(options), limit=MAX_OPTIONS)
    check_settings(budget, cap)
    if deadline is not None and deadline <= now:
        raise UserError("vote.deadline_past")
    vote = Vote(
        unit_id=unit_id,
        case_id=case_id,
        title=title,
        owner_id=owner_id,
        budget=budget,
        cap=cap,
        deadline=deadline,
        created_at=now,
    )
    session.add(vote)
    session.flush()
    for position, label, idea_id in options:
        session.add(VoteOption(vote_id=vote.id, position=position, label=label, idea_id=idea_id))
    session.flush()
    return vote


def lock(session: Session, vote_id: int) -> Vote:
    """The vote, its row locked until the transaction ends and re-read (not a stale cached copy)."""
    vote = session.scalar(
        select(Vote).where(Vote.id == vote_id).with_for_update().execution_options(populate_existing=True)
    )
    if vote is None:
        raise UserError("vote.unknown")
    return vote


def options_of(session: Session, vote_id: int) -> list[VoteOption]:
    return list(
        session.scalars(select(VoteOption).where(VoteOption.vote_id == vote_id).order_by(VoteOption.position))
    )


def dots_of(session: Session, vote_id: int, member_id: int) -> list[VoteDot]:
    return list(
        session.scalars(
            select(VoteDot)
            .where(VoteDot.vote_id == vote_id, VoteDot.member_id == member_id)
            .order_by(VoteDot.slot)
        )
    )


def voter_count(session: Session, vote_id: int) -> int:
    count = session.scalar(
        select(func.count(func.distinct(VoteDot.member_id))).where(VoteDot.vote_id == vote_id)
    )
    return int(count or 0)


def set_ballot(session: Session, vote_id: int, member_id: int, wanted: dict[int, int], now: datetime) -> bool:
    """Make a person's dots exactly ``wanted`` (option id → dots). ``False`` when nothing changed.

    Raises :class:`UserError` for a closed vote, an unknown option, or more than the cap or the budget;
    then nothing is changed.
    """
    vote = lock(session, vote_id)
    if vote.status != "open":
        raise UserError("vote.closed")
    valid = {option.id for option in options_of(session, vote.id)}
    wanted = {option: count for option, count in wanted.items() if count > 0}
    if set(wanted) - valid:
        raise UserError("errors.unknown_action")
    if any(count > vote.cap for count in wanted.values()):
        raise UserError("vote.over_cap", cap=Counted("counts.dots", vote.cap))
    mine = dots_of(session, vote.id, member_id)
    if sum(wanted.values()) > vote.budget:
        raise UserError("vote.over_budget", budget=Counted("counts.dots", vote.budget), used=len(mine))
    if Counter(dot.option_id for dot in mine) == Counter(wanted):
        return False
    keep: list[VoteDot] = []
    for option_id in {dot.option_id for dot in mine}:
        have = sorted((d for d in mine if d.option_id == option_id), key=lambda d: d.option_slot)
        keep.extend(have[: wanted.get(option_id, 0)])
        for dot in have[wanted.get(option_id, 0) :]:
            session.delete(dot)
    session.flush()
    free_slots = iter(sorted(set(range(vote.budget)) - {dot.slot for dot in keep}))
    for option_id, count in wanted.items():
        taken = {dot.option_slot for dot in keep if dot.option_id == option_id}
        free_option_slots = iter(sorted(set(range(vote.cap)) - taken))
        for _ in range(count - len(taken)):
            session.add(
                VoteDot(
                    vote_id=vote.id,
                    member_id=member_id,
                    option_id=option_id,
                    slot=next(free_slots),
                    option_slot=next(free_option_slots),
                    created_at=now,
                )
            )
    session.flush()
    return True


def set_dots(
    session: Session, vote_id: int, member_id: int, option_id: int, count: int, now: datetime
) -> bool:
    """Put exactly ``count`` of the person's dots on one option, keeping the others where they are."""
    lock(session, vote_id)  # the person's current dots must be read under the lock
    current = Counter(dot.option_id for dot in dots_of(session, vote_id, member_id))
    current[option_id] = count
    return set_ballot(session, vote_id, member_id, dict(current), now)


def close(session: Session, vote_id: int, member_id: int | None, now: datetime) -> Vote | None:
    """Close the vote; ``None`` when it was already closed (a second click, or the deadline came first)."""
    vote = lock(session, vote_id)
    if vote.status != "open":
        return None
    vote.status = "closed"
    vote.closed_at = now
    vote.closed_by_id = member_id
    session.flush()
    return vote


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placing:
    place: int
    option: VoteOption
    dots: int
    tied: bool


def results(session: Session, vote: Vote) -> list[Placing]:
    """Options by dots, most first; equal dots share a place (1, 1, 3) and are marked as tied."""
    totals = dict(
        session.execute(
            select(VoteDot.option_id, func.count())
            .where(VoteDot.vote_id == vote.id)
            .group_by(VoteDot.option_id)
        ).all()
    )
    ordered = sorted(options_of(session, vote.id), key=lambda o: (-totals.get(o.id, 0), o.position))
    counts = Counter(totals.get(o.id, 0) for o in ordered)
    placings: list[Placing] = []
    for index, option in enumerate(ordered):
        dots = totals.get(option.id, 0)
        place = index + 1 if index == 0 or placings[-1].dots != dots else placings[-1].place
        placings.append(Placing(place, option, dots, counts[dots] > 1))
    return placings


def winners(session: Session, vote: Vote) -> list[VoteOption]:
    """The option(s) on the first place, if anyone voted."""
    return [p.option for p in results(session, vote) if p.place == 1 and p.dots > 0]


# --------------------------------------------------------------------------------------------------
# What people see
# --------------------------------------------------------------------------------------------------


def option_line(tr: Translator, option: VoteOption) -> str:
    # Room for a built-on idea's chain and the start of its line (idea_hunt.ballot_label).
    return tr("vote.option_line", number=option.position, label=short(option.label, 220))


def rules_text(tr: Translator, vote: Vote, timezone: str) -> str:
    rules = tr("vote.rules", budget=plural(tr.language, "counts.dots", vote.budget), cap=vote.cap)
    if vote.deadline is not None:
        rules += " " + tr("vote.deadline", when=show_deadline(tr, vote.deadline, timezone))
    return rules


def results_text(tr: Translator, session: Session, vote: Vote) -> str:
    placings = results(session, vote)
    voters = voter_count(session, vote.id)
    dots = plural(tr.language, "counts.dots", sum(p.dots for p in placings))
    lines = [tr("vote.results_title", voters=voters, dots=dots)]
    if voters == 0:
        lines.append(tr("vote.nobody_voted"))
        return "\n".join(lines)
    top = [p for p in placings if p.place == 1]
    if len(top) > 1:
        lines.append(tr("vote.tie_top", options=", ".join(f"#{p.option.position}" for p in top)))
    for p in placings:
        key = "vote.result_line_tied" if p.tied and p.dots > 0 else "vote.result_line"
        lines.append(
            tr(key, place=p.place, number=p.option.position, label=short(p.option.label, 220), dots=p.dots)
        )
    return "\n".join(lines)


def status_blocks(tr: Translator, session: Session, vote: Vote, timezone: str) -> list[Block]:
    """The vote's state for a head message: rules and voters while open, the results once closed."""
    if vote.status == "open":
        voters = voter_count(session, vote.id)
        return [Note(rules_text(tr, vote, timezone) + "\n" + tr("vote.hidden", voters=voters))]
    return [Text(results_text(tr, session, vote))]


def render_head(tr: Translator, session: Session, vote: Vote, timezone: str) -> Reply:
    """The head message of a standalone vote."""
    title = tr("vote.head_title", title=vote.title)
    options = "\n".join(option_line(tr, o) for o in options_of(session, vote.id))
    blocks: list[Block] = [Header(title)]
    if vote.status == "open":
        blocks.append(Text(options))
    blocks.extend(status_blocks(tr, session, vote, timezone))
    if vote.status == "open":
        blocks.append(
            Buttons(
                (
                    Button(tr("vote.ballot_button"), "vote.ballot", str(vote.id), "primary"),
                    Button(tr("vote.close_button"), "vote.close", str(vote.id)),
                )
            )
        )
    return Reply(fallback=title, blocks=tuple(blocks))


def ballot(tr: Translator, session: Session, vote: Vote, member_id: int) -> Reply:
    """A person's own ballot: their dots per option and buttons that set the next count (+/−)."""
    mine = Counter(dot.option_id for dot in dots_of(session, vote.id, member_id))
    left = vote.budget - sum(mine.values())
    title = tr("vote.ballot_title", title=vote.title, left=left, budget=vote.budget)
    blocks: list[Block] = [Text(title)]
    for option in options_of(session, vote.id):
        have = mine.get(option.id, 0)
        line = option_line(tr, option) + (f"  {DOT * have}" if have else "")
        buttons = []
        if have < vote.cap and left > 0:
            label = tr("vote.add_button", number=option.position)
            buttons.append(Button(label, "vote.set", f"{vote.id}:{option.id}:{have + 1}", "primary"))
        if have > 0:
            label = tr("vote.remove_button", number=option.position)
            buttons.append(Button(label, "vote.set", f"{vote.id}:{option.id}:{have - 1}"))
        blocks.append(Text(line))
        if buttons:
            blocks.append(Buttons(tuple(buttons)))
    blocks.append(Note(tr("vote.ballot_hint", cap=vote.cap)))
    return Reply(fallback=title, blocks=tuple(blocks))


# --------------------------------------------------------------------------------------------------
# Closing, with what everyone sees (shared by people closing and the scheduler's deadline)
# --------------------------------------------------------------------------------------------------


def case_vote(session: Session, case_id: int) -> Vote | None:
    return session.scalar(select(Vote).where(Vote.case_id == case_id))


def unit_translator(session: Session, unit_id: int) -> tuple[Translator, str]:
    """Texts everyone in the channel reads are in the unit's language; also the unit's time zone."""
    unit = session.get(Unit, unit_id)
    return Translator(unit.language if unit else "nb"), unit.timezone if unit else "Europe/Oslo"


def results_reply(tr: Translator, session: Session, vote: Vote) -> Reply:
    title = tr("vote.results_header")
    return Reply(fallback=title, blocks=(Header(title), Text(results_text(tr, session, vote))))


def finish_case_vote(ctx: HandlerContext, case: Case) -> None:
    """Close a case's vote (if still open) and post the result in the case's thread."""
    vote = case_vote(ctx.session, case.id)
    if vote is None or close(ctx.session, vote.id, ctx.member.id, ctx.now) is None:
        return
    cases.post_in_case(ctx, case, results_reply(cases.for_case(ctx, case).t, ctx.session, vote))


def update_standalone_head(ctx: HandlerContext, vote: Vote) -> None:
    tr, timezone = unit_translator(ctx.session, vote.unit_id)
    ctx.update(head_key(vote.id), render_head(tr, ctx.session, vote, timezone))


def announce_standalone_close(ctx: HandlerContext, vote: Vote) -> None:
    """A closed standalone vote: the head shows the result in place, and the thread gets it too."""
    update_standalone_head(ctx, vote)
    tr, _ = unit_translator(ctx.session, vote.unit_id)
    ctx.post(results_reply(tr, ctx.session, vote), thread_key=head_key(vote.id))


def parse_numbers(text: str) -> list[int] | None:
    """ "#3 #3 5" or "3, 3, 5" → [3, 3, 5]; "0"/"ingen" → []; anything else → ``None``."""
    words = text.replace(",", " ").replace("og", " ").replace("and", " ").split()
    if len(words) == 1 and words[0].lower() in ("0", "ingen", "none", "inga", "nullstill", "reset"):
        return []
    numbers = [w.lstrip("#") for w in words]
    if not numbers or not all(n.isdigit() and len(n) < 5 for n in numbers):
        return None
    return [int(n) for n in numbers]


def ballot_from_numbers(session: Session, vote: Vote, numbers: list[int]) -> dict[int, int]:
    by_position = {o.position: o.id for o in options_of(session, vote.id)}
    unknown = [n for n in numbers if n not in by_position]
    if unknown:
        raise UserError("vote.unknown_option", number=unknown[0])
    return dict(Counter(by_position[n] for n in numbers))
