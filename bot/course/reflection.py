"""The private reflection after each module and its anonymous digest for the trio before the next one.

After every module, those the module was for (the trio after a digital module, everyone after a staff
gathering; ``audience`` in ``prompts/nudges.yaml``) get a reflection question privately, with a button
that opens a form: nothing is typed where others read it, and the platforms keep no message with the
author's name.

Stored like the check-in's comments (:mod:`bot.course.survey`): the person's "has answered" marker in the
event's transaction, the text in a detached transaction of its own that names nobody and rewrites the one
round row (the new text at a random place in the list). So on PostgreSQL nothing but "who answered last"
can be read from ``xmin``, there is no row per answer whose order or ``ctid`` could be lined up with the
markers, and no time is kept per answer.

**The threshold.** A reflection is free text, so it follows the rule for check-in comments: shown only
from :data:`MIN_ANSWERS` (10, :data:`~bot.course.privacy.MIN_COMMENT_GROUP`) answers – counted *without*
the answers the readers may have written themselves. The digest's readers are a unit's trio, and after a
trio module they are the very people who answered: a trio that compares notes can set its own texts
aside, so for every unit that gets the digest, the answers none of its trio wrote must reach ten on their
own (the markers, still there when the digest is made, say how many of each trio answered; the count is
used, never shown). A kindergarten's trio is three people and its staff often not many more, so alone a
unit rarely gets there – that is honest, not a bug: three answers shown to the three who wrote them are
not anonymous.
What helps is pooling: when the unit's course run is in an exchange group (module 6's experience
exchange, :mod:`bot.course.exchange`), the digest of module N pools the open rounds of module N of every
run in the group, and the same digest goes to every trio whose answers are in it. Each answer is in
exactly one digest (no two views overlap, so nothing can be subtracted), and the person is told so when
asked. Below the threshold the trio is told plainly that the reflections cannot be shown, never how many
answered or how many more were needed (with the markers gone that number still says how many of the
trio wrote). Either way the texts and the markers are deleted when the digest is made.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext
from bot.chat.model import Block, Effect, Header, Note, Reply, Text
from bot.course.audience import effects_for, trio_of
from bot.course.models import CourseRun
from bot.course.models_exchange import ExchangeRun, ReflectionRespondent, ReflectionRound
from bot.course.plan import load_plan
from bot.course.privacy import MIN_COMMENT_GROUP, visible_comments
from bot.i18n import t
from bot.storage.models import Unit

MIN_ANSWERS = MIN_COMMENT_GROUP
MAX_ANSWER = 500
# Per answer in the digest: the whole list must fit a Slack section (3000 characters).
SHOWN_CHARS = 240
# A Slack message holds 50 blocks; a digest of a big pool shows the first answers in alphabetical order.
MAX_SHOWN = 160


class AlreadyAnswered(Exception):
    """One reflection per person and module: the first is stored without a name and cannot be replaced."""


def trio_module(module: int) -> bool:
    """Whether the module was for the trio only (so only the trio is asked to reflect)."""
    return load_plan().module_groups.get(module, "all") == "trio"


def find_round(session: Session, run_id: int, module: int) -> ReflectionRound | None:
    return session.scalar(
        select(ReflectionRound).where(ReflectionRound.run_id == run_id, ReflectionRound.module == module)
    )


def open_round(session: Session, run: CourseRun, module: int, now: datetime) -> ReflectionRound:
    found = find_round(session, run.id, module)
    if found is not None:
        return found
    round_ = ReflectionRound(run_id=run.id, module=module, opened_at=now, status="open", answers=[])
    session.add(round_)
    session.flush()
    return round_


def has_answered(session: Session, round_: ReflectionRound, member_id: int) -> bool:
    return session.get(ReflectionRespondent, (round_.id, member_id)) is not None


def _locked(session: Session, round_id: int) -> ReflectionRound:
    query = select(ReflectionRound).where(ReflectionRound.id == round_id).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one()


def fold(session: Session, round_id: int, text: str) -> None:
    """Add one answer at a random place; a round no longer open (its digest was made) takes nothing."""
    round_ = _locked(session, round_id)
    if round_.status != "open":
        return
    answers = list(round_.answers or [])
    answers.insert(secrets.randbelow(len(answers) + 1), text.strip()[:MAX_ANSWER])
    round_.answers = answers
    round_.answer_count = round_.answer_count + 1
    session.flush()


def answer(ctx: HandlerContext, round_: ReflectionRound, text: str) -> None:
    """The marker now, the text in a transaction of its own after this one commits."""
    if has_answered(ctx.session, round_, ctx.member.id):
        raise AlreadyAnswered
    ctx.session.add(ReflectionRespondent(round_id=round_.id, member_id=ctx.member.id))
    ctx.session.flush()
    member_id, round_id = ctx.member.id, round_.id

    def write(later: HandlerContext) -> None:
        fold(later.session, round_id, text)

    def undo(later: HandlerContext) -> None:
        later.session.execute(
            delete(ReflectionRespondent).where(
                ReflectionRespondent.round_id == round_id, ReflectionRespondent.member_id == member_id
            )
        )
        later.private(later.t("reflection.lost"))

    ctx.detach("reflection.answer", write, undo)


# The digest ---------------------------------------------------------------------------------------------


def group_runs(session: Session, run_id: int) -> list[int]:
    """The runs pooled with this one: every run of its exchange group, or the run alone."""
    group = session.scalar(select(ExchangeRun.group_id).where(ExchangeRun.run_id == run_id))
    if group is None:
        return [run_id]
    return sorted(session.scalars(select(ExchangeRun.run_id).where(ExchangeRun.group_id == group)))


@dataclass(frozen=True)
class Digest:
    module: int
    shown: bool
    answers: tuple[str, ...]  # empty unless shown; alphabetical, so their order tells nothing
    count: int  # only used when shown
    units: tuple[Unit, ...]  # whose trios get it (and whose answers are pooled)


def make_digest(session: Session, run: CourseRun, module: int) -> Digest | None:
    """Pool the open rounds of ``module`` of the run's group, close them, and delete texts and markers.

    None when the run's own round is no longer open (an earlier digest of the group took it) or was never
    opened (nobody was asked): then there is nothing to say.
    """
    own = find_round(session, run.id, module)
    if own is None or own.status != "open":
        return None
    rounds: list[ReflectionRound] = []
    for run_id in group_runs(session, run.id):
        found = find_round(session, run_id, module)
        if found is not None and found.status == "open":
            rounds.append(_locked(session, found.id))
    total = sum(r.answer_count for r in rounds)
    texts = [text for r in rounds for text in (r.answers or [])]
    units: list[Unit] = []
    for round_ in rounds:
        owner = session.get(CourseRun, round_.run_id)
        unit = session.get(Unit, owner.unit_id) if owner is not None else None
        if unit is not None and unit not in units:
            units.append(unit)
    answered = set(
        session.scalars(
            select(ReflectionRespondent.member_id).where(
                ReflectionRespondent.round_id.in_([r.id for r in rounds])
            )
        )
    )
    shown = bool(units) and all(
        total - len(answered & {m.id for m in trio_of(session, unit.id)}) >= MIN_ANSWERS for unit in units
    )
    visible = visible_comments(texts, total, MIN_ANSWERS) if shown else []
    for round_ in rounds:
        round_.status = "shown" if shown else "withheld"
        round_.answers = []
        session.execute(delete(ReflectionRespondent).where(ReflectionRespondent.round_id == round_.id))
    session.flush()
    return Digest(module, shown, tuple(visible), total if shown else 0, tuple(units))


def unit_names(units: Sequence[Unit]) -> str:
    return ", ".join(u.name for u in units)


def render_digest(language: str, digest: Digest) -> Reply:
    """What the trio reads before the next module: the answers, or plainly why there are none."""
    title = t(language, "reflection.digest_title", module=digest.module)
    pooled = len(digest.units) > 1
    blocks: list[Block] = [Header(title)]
    if digest.shown:
        intro = "reflection.digest_pooled" if pooled else "reflection.digest_intro"
        blocks.append(Text(t(language, intro, count=digest.count, units=unit_names(digest.units))))
        lines = [f"• {a if len(a) <= SHOWN_CHARS else a[:SHOWN_CHARS] + '…'}" for a in digest.answers]
        # A Slack section holds 3000 characters: eight answers a section.
        for start in range(0, min(len(lines), MAX_SHOWN), 8):
            blocks.append(Text("\n".join(lines[start : start + 8])))
        blocks.append(Note(t(language, "reflection.digest_note")))
    else:
        key = "reflection.withheld_pooled" if pooled else "reflection.withheld"
        blocks.append(Text(t(language, key, min=MIN_ANSWERS, units=unit_names(digest.units))))
        blocks.append(Note(t(language, "reflection.withheld_note")))
    return Reply(fallback=title, blocks=tuple(blocks))


def digest_effects(session: Session, run: CourseRun, module: int) -> list[Effect]:
    """Make the digest of ``module`` for the run's pool and address it to the trio of every unit in it."""
    digest = make_digest(session, run, module)
    if digest is None:
        return []
    effects: list[Effect] = []
    for unit in digest.units:
        effects.extend(effects_for(session, unit, "trio", lambda lang, _m: render_digest(lang, digest)))
    return effects
