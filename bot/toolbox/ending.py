"""Ending a case without a plan: its starter or a party withdraws it (started by mistake, no longer
wanted) or closes it (dealt with another way) – ``/parts sak #7 avslutt``, ``/parts sak 7 trekk``, or the
head's "Avslutt saken" button.

An ended case keeps its thread and history (and, like a decided one, is kept for the retention period
counted from ``closed_at``), but it leaves the lists of open cases, the summary and "which case?"; its
vote is closed without results, anonymous questions waiting for a batch are deleted unpublished, and its
buttons and thread take nothing more. Who may do it is the access policy's
(:func:`bot.toolbox.access.may_end_case`), asked in the case's own unit.
"""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError
from bot.toolbox import access, blindspot, cases, voting
from bot.toolbox.models import Case

END_KINDS = ("withdrawn", "closed")
MAX_REASON = 500


def end_case(ctx: HandlerContext, case: Case, how: str, reason: str = "") -> None:
    if how not in END_KINDS:
        raise UserError("errors.unknown_action")
    if case.end_reason is not None:
        raise UserError("case.ended_already", number=case.id)
    if case.closed_at is not None or case.step == "agreed":
        raise UserError("case.end_decided", number=case.id)
    if not access.may_end_case(ctx.session, ctx.organisation.id, ctx.member.id, case):
        raise UserError("case.end_not_allowed")
    note = ctx.text(reason, MAX_REASON) if reason.strip() else ""
    if case.step == "blindspot":
        blindspot.discard_pool(ctx, case)
    vote = voting.case_vote(ctx.session, case.id)
    if vote is not None and vote.status == "open":
        voting.close(ctx.session, vote.id, ctx.member.id, ctx.now)
    case.end_reason = how
    case.closed_at = ctx.now
    case.updated_at = ctx.now
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    said = speaker.t(f"case.ended.{how}", name=cases.name_of(ctx.member), number=case.id)
    if note:
        said += "\n" + speaker.t("case.ended_reason", reason=note)
    cases.post_in_case(ctx, case, said)
    if case.parties_only:
        cases.post_head(ctx, case)
    else:
        cases.refresh_head(ctx, case)
    ctx.private(ctx.t(f"case.ended_you.{how}", number=case.id))
