"""Taking an entry back (its author, for a while) and striking one (the case's starter or a party).

*Undo* ("Angre" on the private receipt, :mod:`bot.toolbox.entries`) deletes what the author just added –
they meant it as conversation, or wrote too soon – as long as the case is still in the step that uses it.
If it was the latest answer in the define step, the bot asks that question again.

*Strike* (``/parts stryk årsak 2``, ``idé 8``, ``spørsmål 3``, ``symptom``, ``effekt``, ``ønske``) takes
someone's entry out of the case: off the head, the why chain and the ballot, kept in the history as
struck. The thread is told who struck what, so nothing disappears silently. Anonymous questions can be
struck too (an offensive one, say); nothing about their askers exists to be touched.

Both rules are the access policy's (:func:`bot.toolbox.access.may_undo_entry`,
:func:`~bot.toolbox.access.may_strike_entry`), asked in the case's own unit.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select, update

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Header, Reply, Text
from bot.i18n import plural
from bot.toolbox import access, cases, define, entries, idea_hunt
from bot.toolbox.models import Case, CaseVersion, Idea, Question

# Words for what can be struck, in nb, nn and en → (entry kind, define answer kind or None).
_WHAT = {
    "årsak": (entries.VERSION, "why"),
    "årsaka": (entries.VERSION, "why"),
    "hvorfor": (entries.VERSION, "why"),
    "kvifor": (entries.VERSION, "why"),
    "cause": (entries.VERSION, "why"),
    "why": (entries.VERSION, "why"),
    "symptom": (entries.VERSION, "symptom"),
    "effekt": (entries.VERSION, "effect"),
    "effect": (entries.VERSION, "effect"),
    "ønske": (entries.VERSION, "wish"),
    "ønsket": (entries.VERSION, "wish"),
    "wish": (entries.VERSION, "wish"),
    "idé": (entries.IDEA, None),
    "ide": (entries.IDEA, None),
    "idea": (entries.IDEA, None),
    "spørsmål": (entries.QUESTION, None),
    "spm": (entries.QUESTION, None),
    "question": (entries.QUESTION, None),
}
_REF = re.compile(r"^\s*(\S+?)\s*#?\s*(\d+)?\s*$")


# --------------------------------------------------------------------------------------------------
# Undo
# --------------------------------------------------------------------------------------------------


def _row(ctx: HandlerContext, case: Case, kind: str, row_id: int) -> CaseVersion | Question | Idea:
    row: CaseVersion | Question | Idea | None
    if kind == entries.VERSION:
        row = ctx.session.get(CaseVersion, row_id)
    elif kind == entries.QUESTION:
        row = ctx.session.get(Question, row_id)
    else:
        row = ctx.session.get(Idea, row_id)
    if row is None or row.case_id != case.id:
        raise UserError("entries.gone")
    return row


def _steps_for(kind: str) -> tuple[str, ...]:
    """While the case is in these steps, an entry of ``kind`` can still be taken back or struck."""
    return {
        entries.VERSION: ("define", "blindspot"),
        entries.QUESTION: ("blindspot", "ideas"),
        entries.IDEA: ("define", "blindspot", "ideas"),
    }[kind]


def undo(ctx: HandlerContext, value: str) -> None:
    """The author pressed "Angre" on their receipt (value ``case:kind:row``)."""
    case = cases.case_from_value(ctx, value)
    _, kind, row_id = [*value.split(":"), "", ""][:3]
    if kind not in entries.KINDS or not row_id.isdigit():
        raise UserError("errors.unknown_action")
    row = _row(ctx, case, kind, int(row_id))
    written: datetime | None = row.created_at
    if not access.may_undo_entry(
        ctx.session, ctx.organisation.id, ctx.member.id, case, row.author_id, written, ctx.now
    ):
        if row.author_id == ctx.member.id:
            minutes = plural(ctx.language, "counts.minutes", int(access.UNDO_WINDOW.total_seconds() // 60))
            raise UserError("entries.undo_too_late", minutes=minutes)
        raise UserError("entries.undo_not_yours")
    if case.step not in _steps_for(kind):
        raise UserError("entries.undo_moved_on", step=cases.step_label(ctx, case.step))
    speaker = cases.for_case(ctx, case)
    label = _label(speaker, case, kind, row)
    latest_answer = isinstance(row, CaseVersion) and _is_latest_answer(ctx, case, row)
    prompt = row.kind if isinstance(row, CaseVersion) else None
    if isinstance(row, Idea):
        _unlink_children(ctx, row)
    ctx.session.delete(row)
    case.updated_at = ctx.now
    ctx.session.flush()
    cases.post_in_case(ctx, case, speaker.t("entries.undone", name=cases.name_of(ctx.member), what=label))
    ctx.private(ctx.t("entries.undone_private", what=label))
    if latest_answer and prompt is not None:
        define.ask_again(ctx, case, prompt)
    cases.refresh_head(ctx, case)


def _is_latest_answer(ctx: HandlerContext, case: Case, version: CaseVersion) -> bool:
    last = ctx.session.scalar(
        select(func.max(CaseVersion.n)).where(
            CaseVersion.case_id == case.id, CaseVersion.kind.in_(entries.ANSWER_KINDS)
        )
    )
    return version.kind in entries.ANSWER_KINDS and last == version.n


def _unlink_children(ctx: HandlerContext, idea: Idea) -> None:
    """Ideas that built on one taken back keep their text and lose only the link."""
    ctx.session.execute(update(Idea).where(Idea.builds_on_id == idea.id).values(builds_on_id=None))


def _label(ctx: HandlerContext, case: Case, kind: str, row: CaseVersion | Question | Idea) -> str:
    if isinstance(row, CaseVersion):
        return entries.version_label(ctx, case, row)
    if isinstance(row, Question):
        return entries.question_label(ctx, case, row)
    return entries.idea_label(ctx, row)


# --------------------------------------------------------------------------------------------------
# Strike
# --------------------------------------------------------------------------------------------------


def find(ctx: HandlerContext, case: Case, ref: str) -> CaseVersion | Question | Idea:
    """``årsak 2``, ``idé 8``, ``spørsmål 3``, ``symptom``: the entry as the case shows it now."""
    match = _REF.match(ref.strip().lower())
    what = _WHAT.get(match.group(1).rstrip(".:")) if match else None
    if match is None or what is None:
        raise UserError("entries.strike_usage")
    kind, answer = what
    number = int(match.group(2)) if match.group(2) else None
    if kind == entries.IDEA:
        if number is None:
            raise UserError("entries.strike_usage")
        idea = idea_hunt.find_idea(ctx, case, number)
        if idea.struck_at is not None:
            raise UserError("entries.already_struck")
        return idea
    if kind == entries.QUESTION:
        questions = entries.live_questions(ctx, case)
        if number is None or not 1 <= number <= len(questions):
            raise UserError("entries.no_such", ref=ref.strip())
        return questions[number - 1]
    if answer == "why":
        found = cases.versions(ctx.session, case, *entries.WHY_KINDS)
        if number is None or not 1 <= number <= len(found):
            raise UserError("entries.no_such", ref=ref.strip())
        return found[number - 1]
    latest = cases.versions(ctx.session, case, str(answer))
    if not latest:
        raise UserError("entries.no_such", ref=ref.strip())
    return latest[-1]


def strike(ctx: HandlerContext, case: Case, ref: str) -> None:
    """A steerer takes an entry out of the case; the thread is told."""
    if not access.may_strike_entry(ctx.session, ctx.organisation.id, ctx.member.id, case):
        raise UserError("entries.strike_not_allowed")
    row = find(ctx, case, ref)
    kind = (
        entries.VERSION
        if isinstance(row, CaseVersion)
        else entries.QUESTION
        if isinstance(row, Question)
        else entries.IDEA
    )
    if case.step not in _steps_for(kind):
        raise UserError("entries.undo_moved_on", step=cases.step_label(ctx, case.step))
    speaker = cases.for_case(ctx, case)
    label = _label(speaker, case, kind, row)
    latest_answer = isinstance(row, CaseVersion) and _is_latest_answer(ctx, case, row)
    row.struck_at = ctx.now
    case.updated_at = ctx.now
    ctx.session.flush()
    text = cases.short(row.text, 80)
    cases.post_in_case(
        ctx, case, speaker.t("entries.struck", name=cases.name_of(ctx.member), what=label, text=text)
    )
    if latest_answer and isinstance(row, CaseVersion) and case.pending_prompt is None:
        define.ask_again(ctx, case, row.kind)
    cases.refresh_head(ctx, case)


def listing(ctx: HandlerContext, case: Case) -> Reply:
    """What can be struck now, with the words to strike it (``/parts stryk`` alone)."""
    lines: list[str] = []
    if case.step in _steps_for(entries.VERSION):
        for version in cases.versions(ctx.session, case, *entries.ANSWER_KINDS):
            label = entries.version_label(ctx, case, version)
            lines.append(ctx.t("entries.list_line", what=label, text=cases.short(version.text, 80)))
    if case.step in _steps_for(entries.QUESTION):
        for question in entries.live_questions(ctx, case):
            label = entries.question_label(ctx, case, question)
            lines.append(ctx.t("entries.list_line", what=label, text=cases.short(question.text, 80)))
    if case.step in _steps_for(entries.IDEA):
        for idea in idea_hunt.live_ideas(ctx, case):
            label = entries.idea_label(ctx, idea)
            lines.append(ctx.t("entries.list_line", what=label, text=cases.short(idea.text, 80)))
    title = ctx.t("entries.list_title", number=case.id)
    body = "\n".join(lines) if lines else ctx.t("entries.list_empty")
    return Reply(fallback=title, blocks=(Header(title), Text(body), Text(ctx.t("entries.list_how"))))
