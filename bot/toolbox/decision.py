"""The plan is the employer's decision after the employees' representatives have been heard.

Not three vetoes (arbeidsmiljøloven §§ 2-1, 2-3, 6-2; Hovedavtalen): each representative of the plan's
unit (verneombud, hovedverneombud, tillitsvalgt) records a stance on the current revision – enig, enig med
merknad, or uenig, with a note – staff may support or comment, and the leder of the unit decides. The
case then shows "Besluttet av leder etter drøfting med …" with every stance; "enige" only when every
stance is enig.

Stances and the decision are per person *and* role and belong to one revision: a change of the plan
starts a new revision, so earlier ones stay as history but no longer count; losing a role drops what was
given in it (:mod:`bot.grants`). One person can never stand for two parties: the leder and a
representative are never the same person in a unit (:func:`bot.roles.conflicts`), and the decision is
recorded only in role ``leder``.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext, UserError
from bot.i18n import Translator
from bot.roles import members_with_role
from bot.storage.models import REPRESENTATIVE_ROLES, Member
from bot.toolbox import access
from bot.toolbox.models_plan import ActionItem, Approval, Plan, Stance
from bot.toolbox.records import name_of

STANCES = ("enig", "merknad", "uenig")
STAFF_VOICES = ("stoette", "kommentar")
# Stances that must say why.
NEEDS_NOTE = ("merknad", "uenig", "kommentar")
MAX_NOTE = 1000


def stances(session: Session, plan: Plan) -> list[Stance]:
    """The current revision's stances and staff voices, in the order given."""
    return list(
        session.scalars(
            select(Stance)
            .where(Stance.plan_id == plan.id, Stance.revision == plan.revision)
            .order_by(Stance.id)
        )
    )


def decision(session: Session, plan: Plan) -> Approval | None:
    """The leder's decision of the current revision, if taken."""
    return session.scalar(
        select(Approval).where(
            Approval.plan_id == plan.id, Approval.revision == plan.revision, Approval.role == "leder"
        )
    )


def had_voices(session: Session, plan: Plan) -> bool:
    """Whether anyone spoke on the current revision (a change then asks everyone again)."""
    found = session.scalar(
        select(func.count())
        .select_from(Stance)
        .where(Stance.plan_id == plan.id, Stance.revision == plan.revision)
    )
    return bool(found) or decision(session, plan) is not None


def representatives(session: Session, plan: Plan) -> list[tuple[str, Member]]:
    """The representatives of the plan's unit, as (role, person)."""
    return [
        (role, m) for role in REPRESENTATIVE_ROLES for m in members_with_role(session, plan.unit_id, role)
    ]


def waiting(session: Session, plan: Plan) -> list[tuple[str, Member]]:
    """Representatives of the plan's unit who have not given a stance on the current revision."""
    given = {(s.role, s.member_id) for s in stances(session, plan)}
    return [(role, m) for role, m in representatives(session, plan) if (role, m.id) not in given]


def missing_roles(session: Session, plan: Plan) -> list[str]:
    """Roles still to be heard (representatives without a stance), then ``leder`` until decided."""
    roles = list(dict.fromkeys(role for role, _m in waiting(session, plan)))
    if plan.status != "agreed":
        roles.append("leder")
    return roles


def _complete(session: Session, plan: Plan) -> bool:
    has_action = session.scalar(select(ActionItem.id).where(ActionItem.plan_id == plan.id).limit(1))
    return bool(plan.goal) and has_action is not None


def take_stance(ctx: HandlerContext, plan: Plan, stance: str, note: str) -> list[str]:
    """A representative of the plan's unit records a stance in each representative role they hold
    there; returns those roles. Replaces their earlier stance on the same revision."""
    if plan.status == "agreed":
        raise UserError("plan.already_agreed")
    roles = access.stance_roles(ctx.session, ctx.organisation.id, ctx.member.id, plan)
    if not roles:
        raise UserError("plan.stance_not_representative")
    if not _complete(ctx.session, plan):
        raise UserError("plan.incomplete")
    cleaned = _note(ctx, stance, note)
    for role in roles:
        _put(ctx, plan, role, stance, cleaned)
    return roles


def staff_voice(ctx: HandlerContext, plan: Plan, kind: str, note: str) -> None:
    """Support or a comment from anyone who may see the plan (the staff's voice, AML § 2-3)."""
    if plan.status == "agreed":
        raise UserError("plan.already_agreed")
    if not access.may_see_plan(ctx.session, ctx.organisation.id, ctx.member.id, plan):
        raise UserError("errors.unknown_action")
    _put(ctx, plan, "ansatt", kind, _note(ctx, kind, note))


def _note(ctx: HandlerContext, stance: str, note: str) -> str:
    if stance in NEEDS_NOTE and not note.strip():
        raise UserError(f"plan.stance_needs_note.{stance}")
    return ctx.text(note, MAX_NOTE) if note.strip() else ""


def _put(ctx: HandlerContext, plan: Plan, role: str, stance: str, note: str) -> None:
    row = ctx.session.scalar(
        select(Stance).where(
            Stance.plan_id == plan.id,
            Stance.revision == plan.revision,
            Stance.member_id == ctx.member.id,
            Stance.role == role,
        )
    )
    if row is None:
        ctx.session.add(
            Stance(
                plan_id=plan.id,
                revision=plan.revision,
                member_id=ctx.member.id,
                role=role,
                stance=stance,
                note=note,
                created_at=ctx.now,
            )
        )
    else:
        row.stance, row.note, row.created_at = stance, note, ctx.now
    ctx.session.flush()


def decide(ctx: HandlerContext, plan: Plan, *, anyway: bool = False) -> None:
    """The leder of the plan's unit decides the current revision. Representatives not yet heard hold the
    decision back unless the leder says so (``anyway``): the law asks that they are heard, not that they
    agree."""
    if plan.status == "agreed":
        raise UserError("plan.already_agreed")
    if not access.may_decide_plan(ctx.session, ctx.organisation.id, ctx.member.id, plan):
        raise UserError("plan.decide_not_leader")
    if not _complete(ctx.session, plan):
        raise UserError("plan.incomplete")
    still = waiting(ctx.session, plan)
    if still and not anyway:
        names = ", ".join(f"{ctx.t(f'roles.names.{role}')} {name_of(m)}" for role, m in still)
        raise UserError("plan.decide_wait", names=names)
    ctx.session.add(
        Approval(
            plan_id=plan.id,
            revision=plan.revision,
            role="leder",
            member_id=ctx.member.id,
            approved_at=ctx.now,
        )
    )
    plan.status = "agreed"
    plan.agreed_at = ctx.now
    ctx.session.flush()


def _stance_part(tr: Translator, session: Session, row: Stance) -> str:
    who = name_of(session.get(Member, row.member_id))
    key = f"plan.stance_part.{row.stance}"
    return tr(key, role=tr(f"roles.names.{row.role}"), name=who, note=row.note)


def decision_text(tr: Translator, session: Session, plan: Plan) -> str:
    """What the case shows under the plan: the stances so far, and who decided."""
    rows = stances(session, plan)
    heard = [r for r in rows if r.role in REPRESENTATIVE_ROLES]
    staff = [r for r in rows if r.role == "ansatt"]
    parts = [_stance_part(tr, session, r) for r in heard]
    parts += [
        tr("plan.stance_waiting", role=tr(f"roles.names.{role}"), name=name_of(m))
        for role, m in waiting(session, plan)
    ]
    lines = []
    taken = decision(session, plan)
    if plan.status == "agreed" and taken is not None:
        leader = name_of(session.get(Member, taken.member_id)) if taken.member_id else "?"
        heard_text = "; ".join(_stance_part(tr, session, r) for r in heard) or tr("plan.nobody_heard")
        lines.append(tr("plan.decided_line", name=leader, heard=heard_text))
        if heard and all(r.stance == "enig" for r in heard):
            lines.append(tr("plan.all_agree"))
    else:
        if not representatives(session, plan):
            lines.append(tr("plan.no_representatives"))
        elif parts:
            lines.append(tr("plan.stances_line", parts=" · ".join(parts)))
        leaders = members_with_role(session, plan.unit_id, "leder")
        lines.append(
            tr("plan.leader_decides", names=", ".join(name_of(m) for m in leaders))
            if leaders
            else tr("plan.no_leader")
        )
    supports = sum(1 for r in staff if r.stance == "stoette")
    comments = [r for r in staff if r.stance == "kommentar"]
    if supports or comments:
        lines.append(tr("plan.staff_line", supports=supports, comments=len(comments)))
        lines.extend(
            tr("plan.comment_line", name=name_of(session.get(Member, r.member_id)), note=r.note)
            for r in comments
        )
    return "\n".join(lines)
