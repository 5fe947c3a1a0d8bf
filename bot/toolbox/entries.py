"""What a person added to a case, named the way the case shows it, and the receipt they see.

Three kinds of entries come from a case's thread: an answer in the define step (a
:class:`~bot.toolbox.models.CaseVersion`: "årsak 2"), a blind-spot question ("spørsmål 3") and an idea
("idé #4"). When one is taken, its author sees it privately with an "Angre" button ("Lagt til som årsak
2."), so a reply that was meant as conversation is noticed and taken back at once (ux.md item 6). Taking
back and striking live in :mod:`bot.toolbox.corrections`; the rules are in :mod:`bot.toolbox.access`.

A reference is ``<kind>:<row id>`` (``v`` version, ``q`` question, ``i`` idea) after the case id, as in
every other button value: ``"12:v:40"``.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.chat.context import HandlerContext
from bot.chat.model import Button, Buttons, Reply, Text
from bot.toolbox import cases
from bot.toolbox.models import Case, CaseVersion, Idea, Question

VERSION, QUESTION, IDEA = "v", "q", "i"
KINDS = (VERSION, QUESTION, IDEA)
# Define answers an entry label names by position in the why chain.
WHY_KINDS = ("cause", "why")
# Define answers that can be taken back or struck: the refined statement is kept as a version of the
# problem ("refined, never replaced") and is changed by refining again.
ANSWER_KINDS = ("symptom", "cause", "why", "effect", "wish")


def why_position(ctx: HandlerContext, case: Case, version: CaseVersion) -> int:
    chain = [v.id for v in cases.versions(ctx.session, case, *WHY_KINDS)]
    return chain.index(version.id) + 1 if version.id in chain else len(chain) + 1


def live_questions(ctx: HandlerContext, case: Case) -> list[Question]:
    """The case's questions people can see, in the order they came (an anonymous batch in its shuffled
    order, which is the order it was shown in)."""
    return list(
        ctx.session.scalars(
            select(Question)
            .where(Question.case_id == case.id, Question.released.is_(True), Question.struck_at.is_(None))
            .order_by(Question.id)
        )
    )


def version_label(ctx: HandlerContext, case: Case, version: CaseVersion) -> str:
    if version.kind in WHY_KINDS:
        return ctx.t("entries.label.why", n=why_position(ctx, case, version))
    return ctx.t(f"entries.label.{version.kind}")


def question_label(ctx: HandlerContext, case: Case, question: Question) -> str:
    ids = [q.id for q in live_questions(ctx, case)]
    n = ids.index(question.id) + 1 if question.id in ids else len(ids) + 1
    return ctx.t("entries.label.question", n=n)


def idea_label(ctx: HandlerContext, idea: Idea, parent: int | None = None) -> str:
    if parent is not None:
        return ctx.t("entries.label.idea_built", number=idea.number, parent=parent)
    return ctx.t("entries.label.idea", number=idea.number)


def receipt(ctx: HandlerContext, case: Case, kind: str, row_id: int, label: str, key: str = "taken") -> None:
    """Tell the author privately what their message became, with a button to take it back."""
    text = ctx.t(f"entries.{key}", what=label, number=case.id)
    undo = Button(ctx.t("entries.undo_button"), "case.undo", f"{case.id}:{kind}:{row_id}")
    ctx.private(Reply(fallback=text, blocks=(Text(text), Buttons((undo,)))))
